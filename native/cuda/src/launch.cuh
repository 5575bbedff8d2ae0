/*
 * The one place that fixes the kernels' compile-time shapes, maps a runtime problem (math, dtype,
 * head dim) to a kernel instantiation, and launches it.
 *
 * The shapes (compile-time switches):
 *   - kAttentionWarps warps per CTA, 16 query rows each (4 warps: 64 rows);
 *   - key tiles of 64 keys for fp16/bf16, 32 for fp32 data (twice the bytes per key);
 *   - swizzled or padded shared-memory rows (swizzle_rows);
 *   - one instantiation per (family, head dim): MMCA_FOR_EACH_DIM_HEAD in dim_heads.h is the list.
 * The kernels are instantiated once each, in attention_{f16,bf16,tf32,exact}.cu (declared extern below,
 * so no other file compiles them). Everything outside `#if defined(__CUDACC__)` is plain C++, which
 * the host emulation test includes to run the same configurations on the CPU.
 */
#ifndef MMCA_CUDA_LAUNCH_CUH
#define MMCA_CUDA_LAUNCH_CUH

#include <stddef.h>

#include <stdexcept>
#include <string>

#include "attention.cuh"
#include "dim_heads.h"
#include "mmca/attention_params.h"
#include "mmca_cuda/api.h"
#include "plan.h"

namespace mmca_cuda {

constexpr int kAttentionWarps = 4;

template <Math M>
constexpr int keys_per_tile() {
    return (M == Math::kF16 || M == Math::kBF16) ? 64 : 32;
}

/*
 * Shared-memory rows swizzled wherever a head vector is a whole number of 128-byte lines, padded
 * elsewhere; and padded for fp32 data at D = 96, where the swizzle's per-chunk address arithmetic cost
 * the exact family more registers than it has (ptxas spilled; the padded layout does not).
 */
template <Math M, int D>
constexpr bool swizzle_rows() {
    constexpr int bytes = (M == Math::kF16 || M == Math::kBF16) ? 2 : 4;
    return (D * bytes / 16) % 8 == 0 && !(bytes == 4 && D == 96);
}

template <Math M, int D>
using KernelConfig = AttentionConfig<M, D, kAttentionWarps, keys_per_tile<M>(), swizzle_rows<M, D>()>;

constexpr int kRowsPerCta = 16 * kAttentionWarps;

/* The kernel family of a validated (math, dtype): exact fp32 runs as 3xTF32, tensor-core fp32 as TF32. */
inline Math family_of(int math, int dtype) {
    switch (dtype) {
        case MMCA_DTYPE_F16: return Math::kF16;
        case MMCA_DTYPE_BF16: return Math::kBF16;
        default: return math == MMCA_MATH_EXACT ? Math::kTF32x3 : Math::kTF32;
    }
}

inline const char *family_name(Math m) {
    switch (m) {
        case Math::kF16: return "fp16";
        case Math::kBF16: return "bf16";
        case Math::kTF32: return "fp32 with tf32 tensor cores";
        default: return "exact fp32 (3xTF32)";
    }
}

inline int keys_per_tile(Math m) {
    return (m == Math::kF16 || m == Math::kBF16) ? keys_per_tile<Math::kF16>() : keys_per_tile<Math::kTF32>();
}

/* Calls f(KernelConfig<family, D>{}) for the compiled head dim D == dim_head; throws for any other. */
template <class F>
void with_config(Math family, int dim_head, F &&f) {
    auto for_dim = [&](auto dim) {
        constexpr int D = decltype(dim)::value;
        switch (family) {
            case Math::kF16: f(KernelConfig<Math::kF16, D>{}); return;
            case Math::kBF16: f(KernelConfig<Math::kBF16, D>{}); return;
            case Math::kTF32: f(KernelConfig<Math::kTF32, D>{}); return;
            case Math::kTF32x3: f(KernelConfig<Math::kTF32x3, D>{}); return;
        }
    };
    switch (dim_head) {
#define MMCA_CASE(D) \
    case D: for_dim(std::integral_constant<int, D>{}); return;
        MMCA_FOR_EACH_DIM_HEAD(MMCA_CASE)
#undef MMCA_CASE
        default:
            throw std::invalid_argument("dim_head: unsupported head dim " + std::to_string(dim_head));
    }
}

/* Dynamic shared memory of the kernel for (family, dim_head). */
inline size_t shared_bytes(Math family, int dim_head) {
    size_t bytes = 0;
    with_config(family, dim_head, [&](auto cfg) { bytes = decltype(cfg)::kSmemBytes; });
    return bytes;
}

/* The decomposition a launch uses (plan.h), for this library's CTA shape. */
inline WorkPlan plan_for(const mmca_text_params &tp, int problems, Math family, int64_t target_ctas,
                         int64_t workspace_bytes, int forced_splits = 0) {
    return make_plan(tp, problems, kRowsPerCta, keys_per_tile(family), target_ctas, workspace_bytes, forced_splits);
}

#if defined(__CUDACC__)

/* Launches attention_kernel<Cfg> over args.plan (validated; device current). */
template <class Cfg>
void launch_kernel(const AttentionArgs &args, cudaStream_t stream) {
    auto kernel = attention_kernel<Cfg>;
    // Above 48 KB the dynamic shared memory limit must be raised, once per device.
    static unsigned long long raised = 0;
    int device = 0;
    MMCA_CUDA_CHECK(cudaGetDevice(&device));
    if (device >= 64 || !(__atomic_load_n(&raised, __ATOMIC_ACQUIRE) & (1ull << device))) {
        MMCA_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)Cfg::kSmemBytes));
        if (device < 64) __atomic_fetch_or(&raised, 1ull << device, __ATOMIC_ACQ_REL);
    }
    kernel<<<(unsigned)args.plan.ctas, Cfg::kThreads, Cfg::kSmemBytes, stream>>>(args);
    MMCA_CUDA_CHECK(cudaGetLastError());
}

#define MMCA_DECLARE(D)                                                                                 \
    extern template void launch_kernel<KernelConfig<Math::kF16, D>>(const AttentionArgs &, cudaStream_t);  \
    extern template void launch_kernel<KernelConfig<Math::kBF16, D>>(const AttentionArgs &, cudaStream_t); \
    extern template void launch_kernel<KernelConfig<Math::kTF32, D>>(const AttentionArgs &, cudaStream_t); \
    extern template void launch_kernel<KernelConfig<Math::kTF32x3, D>>(const AttentionArgs &, cudaStream_t);
MMCA_FOR_EACH_DIM_HEAD(MMCA_DECLARE)
#undef MMCA_DECLARE

#endif  // __CUDACC__

/* Launches an interleaved attention problem (interleaved_exact.cu: fp32 math for every dtype); already validated. */
void launch_interleaved(const mmca_interleaved_params &ip, cudaStream_t stream);

}  // namespace mmca_cuda

#endif
