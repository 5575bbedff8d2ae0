/* Instantiations of the tensor-core kernel for f16, one per supported head dim (one file per type so they compile in parallel). */
#include "launch.cuh"

namespace mmca_cuda {
#define MMCA_INSTANTIATE(D) template void launch_tc<__half, D>(const mmca_text_params &, int, cudaStream_t);
MMCA_FOR_EACH_DIM_HEAD(MMCA_INSTANTIATE)
}  // namespace mmca_cuda
