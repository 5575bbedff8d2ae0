/*
 * Functions shared by the kernels and their host tests: error checks, element conversion, and the
 * visibility rules of SPEC steps 2-4 with the decoding fields (key lengths, query positions).
 */
#ifndef MMCA_CUDA_COMMON_CUH
#define MMCA_CUDA_COMMON_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#include "mmca/attention_params.h"
#include "plan.h"

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

__host__ __device__ __forceinline__ int min_int(int a, int b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ int max_int(int a, int b) { return a > b ? a : b; }

/* SPEC step 2: the kv head read by query head h. */
__host__ __device__ __forceinline__ int kv_head_of(const mmca_attention_params &p, int h) {
    return p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? h % p.kv_heads : h / (p.heads / p.kv_heads);
}

/* Whether query row i exists and is a real token (masked rows get zero output). */
__host__ __device__ __forceinline__ bool query_active(const mmca_attention_params &p, int b, int i) {
    return i < p.queries && (p.query_mask == nullptr || p.query_mask[b * p.query_mask_batch_stride + i] != 0);
}

/* Keys of batch element b that exist at all: key_lengths[b] clamped to [0, keys], or keys. */
__host__ __device__ __forceinline__ int key_limit(const mmca_attention_params &p, int b) {
    if (p.key_lengths == nullptr) return p.keys;
    const int n = p.key_lengths[b];
    return n < 0 ? 0 : (n > p.keys ? p.keys : n);
}

/*
 * One past the last key query i of batch element b may see (SPEC step 4 with the decoding fields):
 * with causal masking key j is visible iff j <= position, where position = query_positions[b, i] or,
 * without positions, the right-aligned i + (keys - queries); never at or past `limit` (key_limit).
 * Keys below it are visible unless the key mask hides them.
 */
__host__ __device__ __forceinline__ int visible_end(const mmca_attention_params &p, int b, int i, int limit) {
    if (!p.causal) return limit;
    const long long pos = p.query_positions != nullptr
            ? (long long)p.query_positions[(long long)b * p.query_positions_batch_stride + i]
            : (long long)i + (p.keys - p.queries);
    const long long end = pos + 1;
    return end < 0 ? 0 : (end > limit ? limit : (int)end);
}

/*
 * Whether query i of batch element b sees at least one key: it is active and the key mask lets through a key
 * below its visible_end. A row that does, but whose running max stays -inf, had every score overflow downwards
 * (finite inputs whose q.k is below -3.4e38): the kernels write NaN there, which the host reports as an overflow.
 * Scans the key mask, so it is for the end of such rows only, never the key loop.
 */
__host__ __device__ __forceinline__ bool sees_a_key(const mmca_attention_params &p, int b, int i) {
    if (!query_active(p, b, i)) return false;
    const int end = visible_end(p, b, i, key_limit(p, b));
    if (p.key_mask == nullptr) return end > 0;
    const uint8_t *km = p.key_mask + b * p.key_mask_batch_stride;
    for (int j = 0; j < end; j++) {
        if (km[j] != 0) return true;
    }
    return false;
}

/* Row r of a tile (plan.h): which query head and query it is, or that it is padding. */
struct RowRef {
    bool valid;
    int h, i;
};

__host__ __device__ __forceinline__ RowRef row_of(const mmca_attention_params &p, const ProblemPlan &pp,
                                                  const WorkItem &w, int r) {
    RowRef ref;
    const int local = r / pp.rows_per_head;
    const int hl = w.chunk * pp.heads_per_tile + local;
    ref.i = w.query_tile * pp.rows_per_head + r % pp.rows_per_head;
    ref.valid = local < pp.heads_per_tile && hl < pp.heads_per_group && ref.i < p.queries;
    // SPEC step 2 inverted: the query heads that read kv head g.
    ref.h = p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? w.g + hl * p.kv_heads : w.g * pp.heads_per_group + hl;
    return ref;
}

/* F.normalize: divide by max(||x||, 1e-12). */
__host__ __device__ __forceinline__ float inv_norm(float sum_squares) {
    return 1.0f / fmaxf(sqrtf(sum_squares), 1e-12f);
}

}  // namespace mmca_cuda

#endif
