/*
 * Interleaved multi-modal causal attention (SPEC "Interleaved MMCA"; mmca_interleaved_params), fused, on CUDA
 * cores in fp32 for every storage type: one pass over the key tiles, each score computed once, and two online
 * softmaxes per query row, one for its text group T and one for its image group I.
 *
 * Query row i at key position p of modality t(p) (t = modality of a key; padding and keys past the length are
 * never in a group):
 *   t(p) text:                T = {text j <= p}, I = {image j <= p}
 *   t(p) image, rule self:    T = {text j <= p}, I = {p}
 *   t(p) image, rule block:   T = {},            I = {image j, no text key between j and p}
 * so each group is one modality inside one window of positions ([0, tHi] for T, [iLo, iHi] for I); under rule self
 * the image group {p} is a softmax over one key, weight 1, so its part is v_p, added at the end without a score.
 * For each key tile, with s_j = (scale q) . k_j:
 *   for G in {T, I}: m' = max(m_G, max_{j in G} s_j), alpha = exp(m_G - m'), l_G = alpha l_G + sum exp(s_j - m'),
 *                    o_G = alpha o_G + sum exp(s_j - m') v_j
 *   out = o_T / l_T + o_I / l_I (+ v_p under rule self)   (a group that saw no key adds zero; padding rows zero).
 *
 * A CTA of 128 threads owns 32 query rows of one (batch, head), four lanes per row (lane `part` holds columns
 * c = t * 4 + part), as the exact kernel; key, value and modality tiles of 32 are staged in shared memory, and a
 * tile where no row of the CTA has a key of its groups is skipped (an image query under rule self skips every
 * image tile). Device code only: the host emulation test compiles it with a C++ compiler.
 */
#ifndef MMCA_CUDA_INTERLEAVED_EXACT_CUH
#define MMCA_CUDA_INTERLEAVED_EXACT_CUH

#include <math_constants.h>

#include "common.cuh"

namespace mmca_cuda {

/* Sum over the 32 lanes of a warp. */
__device__ __forceinline__ float interleaved_warp_sum(float x) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    return x;
}

__host__ __device__ __forceinline__ int imax(int a, int b) { return a > b ? a : b; }
__host__ __device__ __forceinline__ int imin(int a, int b) { return a < b ? a : b; }

struct InterleavedShape {
    static constexpr int kThreads = 128;
    static constexpr int kRows = 32;  // query rows per CTA
    static constexpr int kKeys = 32;  // keys per shared-memory tile
    static constexpr int kLanesPerRow = 4;
};

template <int D>
constexpr size_t interleaved_smem_bytes() {
    // K and V tiles, the tile's modality, two ints per thread (the window search, the CTA's key range), a flag,
    // and the weights of every row for one tile
    return 2 * sizeof(float) * InterleavedShape::kKeys * D + sizeof(int) * InterleavedShape::kKeys
           + 2 * sizeof(int) * InterleavedShape::kThreads + sizeof(int)
           + sizeof(float) * InterleavedShape::kRows * InterleavedShape::kKeys;
}

template <typename T, int D>
__global__ void __launch_bounds__(InterleavedShape::kThreads) interleaved_exact_kernel(mmca_interleaved_params ip) {
    constexpr int P = D / InterleavedShape::kLanesPerRow;  // columns per lane
    constexpr int BC = InterleavedShape::kKeys;
    constexpr int NT = InterleavedShape::kThreads;
    extern __shared__ __align__(128) char smem[];
    float (*sk)[D] = reinterpret_cast<float (*)[D]>(smem);
    float (*sv)[D] = sk + BC;
    int *smod = reinterpret_cast<int *>(sv + BC);
    int *slo = smod + BC;   // per thread: the text key found on the left / the CTA's key range
    int *shi = slo + NT;
    int *sany = shi + NT;   // whether some row has a key of its groups in the tile
    float (*sp)[BC] = reinterpret_cast<float (*)[BC]>(sany + 1);  // the weights of each row for the tile

    const mmca_attention_params &p = ip.attention;
    const int tid = threadIdx.x;
    const int warp = tid / 32, lane = tid % 32;
    const int row = tid / InterleavedShape::kLanesPerRow;
    const int part = tid % InterleavedShape::kLanesPerRow;
    const int b = blockIdx.z, h = blockIdx.y;
    const int q0 = blockIdx.x * InterleavedShape::kRows;
    const int i = q0 + row;
    const int g = kv_head_of(p, h);
    const uint8_t *mod = ip.modality + b * ip.modality_batch_stride;
    const bool block = ip.image_rule == MMCA_IMAGE_RULE_BLOCK;
    int length = p.keys;
    if (p.key_lengths != nullptr) {
        const int n = p.key_lengths[b];
        length = n < 0 ? 0 : (n > p.keys ? p.keys : n);
    }

    // The row's position and modality; values other than 1 and 2 count as padding.
    int pos = -1, kind = 0;
    if (i < p.queries) {
        const long long at = p.query_positions != nullptr
                ? p.query_positions[b * p.query_positions_batch_stride + i]
                : (long long)i + (p.keys - p.queries);
        if (at >= 0 && at < length) {
            pos = (int)at;
            kind = mod[pos];
            kind = kind == 1 || kind == 2 ? kind : 0;
        }
    }
    // Rule block: the nearest text keys on either side of p, the four lanes of a row searching interleaved
    // positions (lane `part` looks at p - 1 - part - 4n and p + 1 + part + 4n), combined through shared memory.
    int left = -1, right = length;
    if (kind == 2 && block) {
        for (int x = pos - 1 - part; x >= 0; x -= 4) {
            if (mod[x] == 1) { left = x; break; }
        }
        for (int x = pos + 1 + part; x < length; x += 4) {
            if (mod[x] == 1) { right = x; break; }
        }
    }
    slo[tid] = left;
    shi[tid] = right;
    __syncthreads();
    const int r0 = row * InterleavedShape::kLanesPerRow;
    left = imax(imax(slo[r0], slo[r0 + 1]), imax(slo[r0 + 2], slo[r0 + 3]));
    right = imin(imin(shi[r0], shi[r0 + 1]), imin(shi[r0 + 2], shi[r0 + 3]));
    int t_hi = -1, i_lo = 0, i_hi = -1;
    if (kind == 1) {
        t_hi = i_hi = pos;
    } else if (kind == 2 && !block) {
        t_hi = pos;  // and its own value, added at the end
    } else if (kind == 2) {
        i_lo = left + 1;
        i_hi = right - 1;
    }
    // The CTA's key range: the union of every row's windows.
    __syncthreads();
    slo[tid] = kind != 0 ? (t_hi >= 0 ? 0 : i_lo) : p.keys;
    shi[tid] = kind != 0 ? imax(t_hi, i_hi) + 1 : 0;
    __syncthreads();
    int from = p.keys, end = 0;
    for (int r = 0; r < NT; r += InterleavedShape::kLanesPerRow) {
        from = imin(from, slo[r]);
        end = imax(end, shi[r]);
    }

    const T *qp = static_cast<const T *>(p.q) + b * p.q_batch_stride + h * p.q_head_stride;
    const T *kp = static_cast<const T *>(p.k) + b * p.k_batch_stride + g * p.k_head_stride;
    const T *vp = static_cast<const T *>(p.v) + b * p.v_batch_stride + g * p.v_head_stride;
    float q[P];
#pragma unroll
    for (int t = 0; t < P; t++) q[t] = i < p.queries ? to_float(qp[(long long)i * p.q_row_stride + t * 4 + part]) : 0.0f;
    float qscale = p.scale;
    if (p.qk_norm) {  // SPEC step 3: L2-normalise the query head vector
        float ss = 0.0f;
#pragma unroll
        for (int t = 0; t < P; t++) ss = fmaf(q[t], q[t], ss);
        ss += __shfl_xor_sync(0xffffffffu, ss, 1);
        ss += __shfl_xor_sync(0xffffffffu, ss, 2);
        qscale *= inv_norm(ss);
    }
#pragma unroll
    for (int t = 0; t < P; t++) q[t] *= qscale;  // the scale folded into q: s = (scale q) . k

    float m_t = -CUDART_INF_F, l_t = 0.0f, m_i = -CUDART_INF_F, l_i = 0.0f;
    float o_t[P], o_i[P];
#pragma unroll
    for (int t = 0; t < P; t++) o_t[t] = o_i[t] = 0.0f;

    for (int kv0 = from; kv0 < end; kv0 += BC) {
        __syncthreads();  // the previous tile is no longer read
        if (tid < BC) {
            const int j = kv0 + tid;
            const int t = j < end ? mod[j] : 0;
            smod[tid] = t == 1 || t == 2 ? t : 0;
        }
        if (tid == 0) *sany = 0;
        __syncthreads();
        bool mine = false;  // does this row have a key of one of its groups in the tile?
        for (int jj = 0; jj < BC && kind != 0; jj++) {
            const int j = kv0 + jj;
            mine |= (smod[jj] == 1 && j <= t_hi) || (smod[jj] == 2 && j >= i_lo && j <= i_hi);
        }
        if (mine) *sany = 1;
        __syncthreads();
        if (*sany == 0) continue;  // the same decision in every thread: no row needs this tile
        for (int idx = tid; idx < BC * D; idx += NT) {
            const int r = idx / D, c = idx % D, j = kv0 + r;
            const bool real = smod[r] != 0;
            sk[r][c] = real ? to_float(kp[(long long)j * p.k_row_stride + c]) : 0.0f;
            sv[r][c] = real ? to_float(vp[(long long)j * p.v_row_stride + c]) : 0.0f;
        }
        __syncthreads();
        if (p.qk_norm) {  // L2-normalise each key head vector of the tile
            for (int r = warp; r < BC; r += NT / 32) {
                float ss = 0.0f;
                for (int c = lane; c < D; c += 32) ss = fmaf(sk[r][c], sk[r][c], ss);
                const float inv = inv_norm(interleaved_warp_sum(ss));
                for (int c = lane; c < D; c += 32) sk[r][c] *= inv;
            }
            __syncthreads();
        }

        // The scores, once for both groups; s[jj] is -inf for a key in neither group.
        float s[BC];
        unsigned in_t = 0u;
        float max_t = -CUDART_INF_F, max_i = -CUDART_INF_F;
#pragma unroll
        for (int jj = 0; jj < BC; jj++) {
            float dot = 0.0f;
#pragma unroll
            for (int t = 0; t < P; t++) dot = fmaf(q[t], sk[jj][t * 4 + part], dot);
            dot += __shfl_xor_sync(0xffffffffu, dot, 1);
            dot += __shfl_xor_sync(0xffffffffu, dot, 2);
            const int j = kv0 + jj;
            const bool gt = kind != 0 && smod[jj] == 1 && j <= t_hi;
            const bool gi = kind != 0 && smod[jj] == 2 && j >= i_lo && j <= i_hi;
            s[jj] = gt || gi ? dot : -CUDART_INF_F;
            in_t |= gt ? 1u << jj : 0u;
            if (gt) max_t = fmaxf(max_t, dot);
            if (gi) max_i = fmaxf(max_i, dot);
        }
        // Same decisions on the four lanes of a row: their scores are equal after the shuffles.
        const float mt_new = fmaxf(m_t, max_t), mi_new = fmaxf(m_i, max_i);
        const float a_t = max_t == -CUDART_INF_F ? 1.0f : expf(m_t - mt_new);  // exp(-inf) = 0 on a first tile
        const float a_i = max_i == -CUDART_INF_F ? 1.0f : expf(m_i - mi_new);
        l_t *= a_t;
        l_i *= a_i;
#pragma unroll
        for (int t = 0; t < P; t++) {
            o_t[t] *= a_t;
            o_i[t] *= a_i;
        }
        // The weights go through shared memory (one row of BC per query row; the row's four lanes write the same
        // values), so that the accumulation loop reads them by a run-time index and need not be unrolled.
#pragma unroll
        for (int jj = 0; jj < BC; jj++) {
            const bool text = (in_t >> jj) & 1u;
            sp[row][jj] = s[jj] == -CUDART_INF_F ? 0.0f : expf(s[jj] - (text ? mt_new : mi_new));
        }
        __syncwarp();
#pragma unroll 2
        for (int jj = 0; jj < BC; jj++) {
            const float pj = sp[row][jj];
            if (pj == 0.0f) continue;
            if ((in_t >> jj) & 1u) {
                l_t += pj;
#pragma unroll
                for (int t = 0; t < P; t++) o_t[t] = fmaf(pj, sv[jj][t * 4 + part], o_t[t]);
            } else {
                l_i += pj;
#pragma unroll
                for (int t = 0; t < P; t++) o_i[t] = fmaf(pj, sv[jj][t * 4 + part], o_i[t]);
            }
        }
        if (max_t != -CUDART_INF_F) m_t = mt_new;
        if (max_i != -CUDART_INF_F) m_i = mi_new;
    }

    // The element's first text and first image key (length: none), each thread over its own stride, combined
    // through shared memory: a group of the keys of one modality in [0, x] holds a key iff x is at or past it. A
    // group that holds keys but kept m = -inf had every score overflow downwards; its row is written as NaN, for the
    // host to report.
    int first_text = length, first_image = length;
    for (int x = tid; x < length && (first_text == length || first_image == length); x += NT) {
        if (mod[x] == 1 && first_text == length) first_text = x;
        if (mod[x] == 2 && first_image == length) first_image = x;
    }
    __syncthreads();  // slo and shi are free again
    slo[tid] = first_text;
    shi[tid] = first_image;
    __syncthreads();
    for (int r = 0; r < NT; r++) {
        first_text = imin(first_text, slo[r]);
        first_image = imin(first_image, shi[r]);
    }
    const bool i_held = kind == 1 ? i_hi >= first_image : kind == 2 && block;  // rule self: I = {p}, unscored
    const bool lost = (m_t == -CUDART_INF_F && t_hi >= first_text) || (m_i == -CUDART_INF_F && i_held);

    if (i < p.queries) {
        T *op = static_cast<T *>(p.o) + b * p.o_batch_stride + (long long)i * p.o_row_stride + h * p.o_head_stride;
        const float inv_t = kind != 0 && l_t > 0.0f ? 1.0f / l_t : 0.0f;  // an empty group adds zero
        const float inv_i = kind != 0 && l_i > 0.0f ? 1.0f / l_i : 0.0f;
        const bool own = kind == 2 && !block;  // rule self: the image group's part is the query's own value
#pragma unroll
        for (int t = 0; t < P; t++) {
            float v = (inv_t != 0.0f ? o_t[t] * inv_t : 0.0f) + (inv_i != 0.0f ? o_i[t] * inv_i : 0.0f);
            if (own) v += to_float(vp[(long long)pos * p.v_row_stride + t * 4 + part]);
            op[t * 4 + part] = from_float<T>(kind != 0 && lost ? CUDART_NAN_F : v);
        }
    }
}

}  // namespace mmca_cuda

#endif
