/* Device functions shared by the attention kernels: element conversion, head mapping, key visibility. */
#ifndef MMCA_CUDA_COMMON_CUH
#define MMCA_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "mmca/attention_params.h"

namespace mmca_cuda {

/* Throws std::runtime_error naming the failed call and the CUDA error; never aborts. */
inline void check(cudaError_t e, const char *what) {
    if (e != cudaSuccess) {
        throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e));
    }
}

#define MMCA_CUDA_CHECK(call) ::mmca_cuda::check((call), #call)

/* Makes `device` current in this library's runtime (api.cu); throws on a bad ordinal. */
void use_device(int device);

__device__ __forceinline__ float to_float(float x) { return x; }
__device__ __forceinline__ float to_float(__half x) { return __half2float(x); }
__device__ __forceinline__ float to_float(__nv_bfloat16 x) { return __bfloat162float(x); }

template <typename T> __device__ __forceinline__ T from_float(float x);
template <> __device__ __forceinline__ float from_float<float>(float x) { return x; }
template <> __device__ __forceinline__ __half from_float<__half>(float x) { return __float2half_rn(x); }
template <> __device__ __forceinline__ __nv_bfloat16 from_float<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* SPEC step 2: the kv head read by query head h. */
__host__ __device__ __forceinline__ int kv_head_of(const mmca_attention_params &p, int h) {
    return p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? h % p.kv_heads : h / (p.heads / p.kv_heads);
}

/* SPEC step 4: query i of batch b may see key j iff the key mask allows it and, when causal, j <= i + (M - N). */
__host__ __device__ __forceinline__ bool key_visible(const mmca_attention_params &p, int b, int i, int j) {
    if (j >= p.keys) return false;
    if (p.causal && j > i + (p.keys - p.queries)) return false;
    return p.key_mask == nullptr || p.key_mask[b * p.key_mask_batch_stride + j] != 0;
}

/* Whether query row i exists and is a real token (masked rows get zero output). */
__host__ __device__ __forceinline__ bool query_active(const mmca_attention_params &p, int b, int i) {
    return i < p.queries && (p.query_mask == nullptr || p.query_mask[b * p.query_mask_batch_stride + i] != 0);
}

/*
 * One past the last key any query of the tile [q0, q0 + rows) can see: with causal masking query i
 * sees j <= i + (M - N), so later key tiles are skipped entirely.
 */
__host__ __device__ __forceinline__ int key_end(const mmca_attention_params &p, int q0, int rows) {
    if (!p.causal) return p.keys;
    long long end = (long long)q0 + rows + (p.keys - p.queries);
    return end < 0 ? 0 : (end > p.keys ? p.keys : (int)end);
}

/* Sum over the 32 lanes of a warp. */
__device__ __forceinline__ float warp_sum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

/* F.normalize: divide by max(||x||, 1e-12). */
__device__ __forceinline__ float inv_norm(float sum_squares) {
    return 1.0f / fmaxf(sqrtf(sum_squares), 1e-12f);
}

}  // namespace mmca_cuda

#endif
