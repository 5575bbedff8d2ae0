/*
 * The one place where a runtime problem (dtype, math, head dim) picks a compiled kernel, and where
 * kernels are launched. The launch templates are instantiated once each, in attention_exact.cu /
 * attention_tc_*.cu (declared extern below, so other files never compile kernels), and adding a head
 * dim means touching MMCA_FOR_EACH_DIM_HEAD (dim_heads.h) and nothing else. The kernel headers themselves hold only
 * device code (the host emulation test compiles them with a plain C++ compiler).
 */
#ifndef MMCA_CUDA_LAUNCH_CUH
#define MMCA_CUDA_LAUNCH_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "attention_exact.cuh"
#include "attention_tc.cuh"
#include "common.cuh"
#include "dim_heads.h"
#include "mmca/attention_params.h"
#include "mmca_cuda/api.h"


namespace mmca_cuda {

/* Grid: (query tiles, heads, batch); every launch is checked. */
template <int D>
void launch_exact(const mmca_text_params &tp, int nproblems, cudaStream_t stream) {
    const dim3 grid((tp.self.queries + ExactShape::kRows - 1) / ExactShape::kRows, tp.self.heads, tp.self.batch);
    exact_attention_kernel<D><<<grid, ExactShape::kThreads, exact_smem_bytes<D>(), stream>>>(tp, nproblems);
    MMCA_CUDA_CHECK(cudaGetLastError());
}

template <typename T, int D>
void launch_tc(const mmca_text_params &tp, int nproblems, cudaStream_t stream) {
    using L = TcLayout<T, D>;
    auto kernel = tc_attention_kernel<T, D>;
    MMCA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)L::kBytes));
    const dim3 grid((tp.self.queries + L::kRows - 1) / L::kRows, tp.self.heads, tp.self.batch);
    kernel<<<grid, L::kThreads, L::kBytes, stream>>>(tp, nproblems);
    MMCA_CUDA_CHECK(cudaGetLastError());
}

#define MMCA_DECLARE(D)                                                                        \
    extern template void launch_exact<D>(const mmca_text_params &, int, cudaStream_t);         \
    extern template void launch_tc<float, D>(const mmca_text_params &, int, cudaStream_t);     \
    extern template void launch_tc<__half, D>(const mmca_text_params &, int, cudaStream_t);    \
    extern template void launch_tc<__nv_bfloat16, D>(const mmca_text_params &, int, cudaStream_t);
MMCA_FOR_EACH_DIM_HEAD(MMCA_DECLARE)
#undef MMCA_DECLARE

template <int D>
void launch_for_dim(const mmca_text_params &tp, int nproblems, int math, cudaStream_t stream) {
    if (math == MMCA_MATH_EXACT) {
        launch_exact<D>(tp, nproblems, stream);  // validation guarantees dtype f32
        return;
    }
    switch (tp.self.dtype) {
        case MMCA_DTYPE_F32: launch_tc<float, D>(tp, nproblems, stream); return;
        case MMCA_DTYPE_F16: launch_tc<__half, D>(tp, nproblems, stream); return;
        case MMCA_DTYPE_BF16: launch_tc<__nv_bfloat16, D>(tp, nproblems, stream); return;
        default: throw std::invalid_argument("dtype: unsupported " + std::to_string(tp.self.dtype));
    }
}

/* Launches problem tp.self (nproblems == 1) or tp.self and tp.cross fused (nproblems == 2); already validated. */
inline void launch_attention(const mmca_text_params &tp, int nproblems, int math, cudaStream_t stream) {
    switch (tp.self.dim_head) {
#define MMCA_CASE(D) case D: launch_for_dim<D>(tp, nproblems, math, stream); return;
        MMCA_FOR_EACH_DIM_HEAD(MMCA_CASE)
#undef MMCA_CASE
        default:
            throw std::invalid_argument("dim_head: unsupported head dim " + std::to_string(tp.self.dim_head));
    }
}

}  // namespace mmca_cuda

#endif
