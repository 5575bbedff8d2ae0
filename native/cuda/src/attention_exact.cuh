/*
 * Exact fp32 attention on CUDA cores: a tiled flash-attention loop with the online softmax of SPEC
 * step 5, every product and sum in fp32 (no TF32, no fast-math exponentials).
 *
 * A CTA of 128 threads owns 32 query rows of one (batch, head); four consecutive lanes share a row,
 * lane `part` holding columns c = t * 4 + part of q and of the output accumulator. Key and value
 * tiles of 32 rows are staged in shared memory and read by every row of the CTA.
 *
 * For each key tile, with s_j = scale * q . k_j over visible keys only:
 *   m' = max(m, max_j s_j),  alpha = exp(m - m'),  l' = alpha * l + sum_j exp(s_j - m'),
 *   o' = alpha * o + sum_j exp(s_j - m') v_j;   finally out = o / l, or 0 where l == 0 or the row is masked.
 */
#ifndef MMCA_CUDA_ATTENTION_EXACT_CUH
#define MMCA_CUDA_ATTENTION_EXACT_CUH

#include <math_constants.h>

#include "common.cuh"

namespace mmca_cuda {

struct ExactShape {
    static constexpr int kThreads = 128;
    static constexpr int kRows = 32;     // query rows per CTA
    static constexpr int kKeys = 32;     // keys per shared-memory tile
    static constexpr int kLanesPerRow = 4;
};

template <int D>
__device__ void exact_attention_tile(const mmca_attention_params &p, int b, int h, int q0, float (*sk)[D],
                                     float (*sv)[D]) {
    constexpr int P = D / ExactShape::kLanesPerRow;  // columns per lane
    constexpr int BC = ExactShape::kKeys;
    const int tid = threadIdx.x;
    const int warp = tid / 32, lane = tid % 32;
    const int row = tid / ExactShape::kLanesPerRow;
    const int part = tid % ExactShape::kLanesPerRow;
    const int i = q0 + row;
    const int g = kv_head_of(p, h);
    const float *qp = static_cast<const float *>(p.q) + b * p.q_batch_stride + h * p.q_head_stride;
    const float *kp = static_cast<const float *>(p.k) + b * p.k_batch_stride + g * p.k_head_stride;
    const float *vp = static_cast<const float *>(p.v) + b * p.v_batch_stride + g * p.v_head_stride;
    const bool active = query_active(p, b, i);

    float q[P];
#pragma unroll
    for (int t = 0; t < P; t++) q[t] = i < p.queries ? qp[(long long)i * p.q_row_stride + t * 4 + part] : 0.0f;
    if (p.qk_norm) {  // SPEC step 3: L2-normalise the query head vector
        float ss = 0.0f;
#pragma unroll
        for (int t = 0; t < P; t++) ss = fmaf(q[t], q[t], ss);
        ss += __shfl_xor_sync(0xffffffffu, ss, 1);
        ss += __shfl_xor_sync(0xffffffffu, ss, 2);
        const float inv = inv_norm(ss);
#pragma unroll
        for (int t = 0; t < P; t++) q[t] *= inv;
    }

    float m = -CUDART_INF_F, l = 0.0f;
    float o[P];
#pragma unroll
    for (int t = 0; t < P; t++) o[t] = 0.0f;

    const int end = key_end(p, q0, ExactShape::kRows);
    for (int kv0 = 0; kv0 < end; kv0 += BC) {
        __syncthreads();  // the previous tile is no longer read
        for (int idx = tid; idx < BC * D; idx += ExactShape::kThreads) {
            const int r = idx / D, c = idx % D, j = kv0 + r;
            sk[r][c] = j < p.keys ? kp[(long long)j * p.k_row_stride + c] : 0.0f;
            sv[r][c] = j < p.keys ? vp[(long long)j * p.v_row_stride + c] : 0.0f;
        }
        __syncthreads();
        if (p.qk_norm) {  // L2-normalise each key head vector of the tile
            for (int r = warp; r < BC; r += ExactShape::kThreads / 32) {
                float ss = 0.0f;
                for (int c = lane; c < D; c += 32) ss = fmaf(sk[r][c], sk[r][c], ss);
                const float inv = inv_norm(warp_sum(ss));
                for (int c = lane; c < D; c += 32) sk[r][c] *= inv;
            }
            __syncthreads();
        }

        float s[BC];
        float tile_max = -CUDART_INF_F;
#pragma unroll
        for (int jj = 0; jj < BC; jj++) {
            float dot = 0.0f;
#pragma unroll
            for (int t = 0; t < P; t++) dot = fmaf(q[t], sk[jj][t * 4 + part], dot);
            dot += __shfl_xor_sync(0xffffffffu, dot, 1);
            dot += __shfl_xor_sync(0xffffffffu, dot, 2);
            const bool vis = active && key_visible(p, b, i, kv0 + jj);
            s[jj] = vis ? dot * p.scale : -CUDART_INF_F;
            tile_max = fmaxf(tile_max, s[jj]);
        }
        if (tile_max != -CUDART_INF_F) {  // same decision on the four lanes of the row
            const float m_new = fmaxf(m, tile_max);
            const float alpha = expf(m - m_new);  // exp(-inf) = 0 on the first visible tile
            l *= alpha;
#pragma unroll
            for (int t = 0; t < P; t++) o[t] *= alpha;
#pragma unroll
            for (int jj = 0; jj < BC; jj++) {
                const float pj = s[jj] == -CUDART_INF_F ? 0.0f : expf(s[jj] - m_new);
                l += pj;
#pragma unroll
                for (int t = 0; t < P; t++) o[t] = fmaf(pj, sv[jj][t * 4 + part], o[t]);
            }
            m = m_new;
        }
    }

    if (i < p.queries) {
        float *op = static_cast<float *>(p.o) + b * p.o_batch_stride + (long long)i * p.o_row_stride
                + h * p.o_head_stride;
        const float inv_l = (active && l > 0.0f) ? 1.0f / l : 0.0f;  // SPEC step 5: no visible key -> zeros
#pragma unroll
        for (int t = 0; t < P; t++) op[t * 4 + part] = (active && l > 0.0f) ? o[t] * inv_l : 0.0f;
    }
}

/* One CTA per (query tile, head, batch); problem 0 is tp.self, problem 1 (when nproblems == 2) tp.cross. */
template <int D>
__global__ void __launch_bounds__(ExactShape::kThreads) exact_attention_kernel(mmca_text_params tp, int nproblems) {
    extern __shared__ __align__(128) char smem[];  // K and V tiles, exact_smem_bytes<D>() in all
    float (*sk)[D] = reinterpret_cast<float (*)[D]>(smem);
    float (*sv)[D] = sk + ExactShape::kKeys;
    const int q0 = blockIdx.x * ExactShape::kRows;
    exact_attention_tile<D>(tp.self, blockIdx.z, blockIdx.y, q0, sk, sv);
    if (nproblems > 1) {
        __syncthreads();
        exact_attention_tile<D>(tp.cross, blockIdx.z, blockIdx.y, q0, sk, sv);
    }
}

template <int D>
constexpr size_t exact_smem_bytes() {
    return 2 * sizeof(float) * ExactShape::kKeys * D;
}

}  // namespace mmca_cuda

#endif
