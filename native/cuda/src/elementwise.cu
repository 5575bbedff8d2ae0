/* Small element-wise kernels: the SEED composition's t + visual, and fp32 <-> fp16/bf16 conversion. */
#include "common.cuh"
#include "mmca_cuda/api.h"

namespace mmca_cuda {
namespace {

unsigned blocks_for(long long n) {
    long long b = (n + 255) / 256;
    return (unsigned)(b < 65535 ? (b < 1 ? 1 : b) : 65535);
}

void require(bool ok, const std::string &message) {
    if (!ok) throw std::invalid_argument(message);
}

template <typename T>
__global__ void add_kernel(T *out, const T *a, const T *b, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        out[i] = from_float<T>(to_float(a[i]) + to_float(b[i]));  // fp32 sum, rounded once
    }
}

template <typename T>
void launch_add(int64_t out, int64_t a, int64_t b, int64_t n, cudaStream_t s) {
    add_kernel<T><<<blocks_for(n), 256, 0, s>>>(reinterpret_cast<T *>(out), reinterpret_cast<const T *>(a),
                                               reinterpret_cast<const T *>(b), n);
}

template <typename T>
__global__ void to_half_kernel(T *dst, const float *src, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        dst[i] = from_float<T>(src[i]);
    }
}

template <typename T>
__global__ void to_f32_kernel(float *dst, const T *src, long long n) {
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n; i += (long long)gridDim.x * blockDim.x) {
        dst[i] = to_float(src[i]);
    }
}

}  // namespace
}  // namespace mmca_cuda

using namespace mmca_cuda;

void mmca_cuda_add(int device, int64_t out, int64_t a, int64_t b, int64_t n, int dtype, int64_t stream) {
    require(out != 0 && a != 0 && b != 0, "add: expected device pointers out, a and b, got NULL");
    require(n >= 0, "n: expected >= 0, got " + std::to_string(n));
    use_device(device);
    cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
    switch (dtype) {
        case MMCA_DTYPE_F32: if (n > 0) launch_add<float>(out, a, b, n, s); break;
        case MMCA_DTYPE_F16: if (n > 0) launch_add<__half>(out, a, b, n, s); break;
        case MMCA_DTYPE_BF16: if (n > 0) launch_add<__nv_bfloat16>(out, a, b, n, s); break;
        default: throw std::invalid_argument("dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got " + std::to_string(dtype));
    }
    MMCA_CUDA_CHECK(cudaGetLastError());
}

void mmca_cuda_convert(int device, int64_t dst, int64_t src, int64_t n, int dtype, int to_f32, int64_t stream) {
    require(dst != 0 && src != 0, "convert: expected device pointers dst and src, got NULL");
    require(n >= 0, "n: expected >= 0, got " + std::to_string(n));
    require(dtype == MMCA_DTYPE_F16 || dtype == MMCA_DTYPE_BF16,
            "dtype: expected 1 (f16) or 2 (bf16), got " + std::to_string(dtype));
    if (n == 0) return;
    use_device(device);
    cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
    const float *fsrc = reinterpret_cast<const float *>(src);
    float *fdst = reinterpret_cast<float *>(dst);
    if (dtype == MMCA_DTYPE_F16) {
        if (to_f32) to_f32_kernel<<<blocks_for(n), 256, 0, s>>>(fdst, reinterpret_cast<const __half *>(src), n);
        else to_half_kernel<<<blocks_for(n), 256, 0, s>>>(reinterpret_cast<__half *>(dst), fsrc, n);
    } else {
        if (to_f32) to_f32_kernel<<<blocks_for(n), 256, 0, s>>>(fdst, reinterpret_cast<const __nv_bfloat16 *>(src), n);
        else to_half_kernel<<<blocks_for(n), 256, 0, s>>>(reinterpret_cast<__nv_bfloat16 *>(dst), fsrc, n);
    }
    MMCA_CUDA_CHECK(cudaGetLastError());
}
