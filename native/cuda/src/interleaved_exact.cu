/* The interleaved attention kernel (interleaved_exact.cuh), instantiated once per storage type and head dim, and
 * its launch: the one place where a problem's dtype and dim_head pick a compiled interleaved kernel. */
#include "dim_heads.h"
#include "interleaved_exact.cuh"
#include "launch.cuh"

namespace mmca_cuda {
namespace {

/* Grid: (query tiles, heads, batch); every launch is checked. */
template <typename T, int D>
void launch_typed(const mmca_interleaved_params &ip, cudaStream_t stream) {
    const mmca_attention_params &p = ip.attention;
    auto kernel = interleaved_exact_kernel<T, D>;
    constexpr size_t bytes = interleaved_smem_bytes<D>();
    if (bytes > 48 * 1024) {
        MMCA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
    }
    const dim3 grid((p.queries + InterleavedShape::kRows - 1) / InterleavedShape::kRows, p.heads, p.batch);
    kernel<<<grid, InterleavedShape::kThreads, bytes, stream>>>(ip);
    MMCA_CUDA_CHECK(cudaGetLastError());
}

template <int D>
void launch_for_dim(const mmca_interleaved_params &ip, cudaStream_t stream) {
    switch (ip.attention.dtype) {
        case MMCA_DTYPE_F32: launch_typed<float, D>(ip, stream); return;
        case MMCA_DTYPE_F16: launch_typed<__half, D>(ip, stream); return;
        case MMCA_DTYPE_BF16: launch_typed<__nv_bfloat16, D>(ip, stream); return;
        default: throw std::invalid_argument("dtype: unsupported " + std::to_string(ip.attention.dtype));
    }
}

}  // namespace

void launch_interleaved(const mmca_interleaved_params &ip, cudaStream_t stream) {
    // The grid is (query tiles, heads, batch): its y and z extents stop at 65535.
    const mmca_attention_params &p = ip.attention;
    if (p.heads > 65535) {
        throw std::invalid_argument("interleaved.attention.heads: expected at most 65535, got " + std::to_string(p.heads));
    }
    if (p.batch > 65535) {
        throw std::invalid_argument("interleaved.attention.batch: expected at most 65535, got " + std::to_string(p.batch));
    }
    switch (ip.attention.dim_head) {
#define MMCA_CASE(D) case D: launch_for_dim<D>(ip, stream); return;
        MMCA_FOR_EACH_DIM_HEAD(MMCA_CASE)
#undef MMCA_CASE
        default:
            throw std::invalid_argument("dim_head: unsupported head dim " + std::to_string(ip.attention.dim_head));
    }
}

}  // namespace mmca_cuda
