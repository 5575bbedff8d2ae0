/* The attention kernel for fp16, one instantiation per head dim (one file per family so they compile in parallel). */
#include "launch.cuh"

namespace mmca_cuda {
#define MMCA_INSTANTIATE(D) template void launch_kernel<KernelConfig<Math::kF16, D>>(const AttentionArgs &, cudaStream_t);
MMCA_FOR_EACH_DIM_HEAD(MMCA_INSTANTIATE)
#undef MMCA_INSTANTIATE
}  // namespace mmca_cuda
