/* Instantiations of the exact fp32 kernel, one per supported head dim. */
#include "launch.cuh"

namespace mmca_cuda {
#define MMCA_INSTANTIATE(D) template void launch_exact<D>(const mmca_text_params &, int, cudaStream_t);
MMCA_FOR_EACH_DIM_HEAD(MMCA_INSTANTIATE)
}  // namespace mmca_cuda
