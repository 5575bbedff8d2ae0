/*
 * Masked grouped-query attention on tensor cores (sm_80+), in the manner of FlashAttention-2. One
 * kernel body for every family: fp16 and bf16 data (mma m16n8k16, fp32 accumulation), fp32 data with
 * tf32 products (m16n8k8), and fp32 data with 3xTF32 products (the exact family, below).
 *
 * SPEC steps 2-5 for the rows of one tile (plan.h: query rows of the heads that share kv head g):
 *   s_ij = scale * q_i . k_j over the keys j that row i may see (key mask, key length, causal limit),
 *   out_i = sum_j softmax_j(s_ij) v_j, or zeros when row i sees no key or is masked.
 * The softmax runs online over key tiles (FlashAttention), in base 2 with the scale folded into one
 * factor per row, c_i = scale * log2(e) (* 1 / ||q_i|| with qk_norm):
 *   x_ij = c_i * S_ij   (S = Q K^T, with qk_norm each column divided by ||k_j||)
 *   m' = max(m, max_j S_ij),  alpha = 2^(c_i m - c_i m'),  p_ij = 2^(c_i S_ij - c_i m'),
 *   l' = alpha l + sum_j p_ij,  o' = alpha o + sum_j p_ij v_j;   out = o / l.
 *
 * A CTA of Cfg::kWarps warps owns Cfg::kRows = 16 * kWarps rows; warp w owns rows [16w, 16w + 16):
 *   - Q: staged once through shared memory, then held in registers (mma A fragments) for the whole
 *     key loop;
 *   - K/V: tiles of Cfg::kKeys keys, copied with cp.async into two shared-memory stages (tile t + 1
 *     is in flight while tile t is computed), rows swizzled (chunk c of row r at c ^ (r % 8)) or padded
 *     by 16 bytes (RowLayout; launch.cuh chooses), so that ldmatrix and the fp32 V reads are free of bank
 *     conflicts;
 *   - S = Q K^T with mma.sync, K fragments by ldmatrix; the softmax works on the accumulator fragments
 *     (each lane holds two rows, g and g + 8, and columns 2t, 2t + 1 of every 8-key block);
 *   - P stays in registers and becomes the A operand of P V: for fp16/bf16 the accumulator layout of two
 *     8-key blocks is exactly the A layout of one 16-key step; for tf32 the m16n8k8 A layout wants
 *     columns t, t + 4 where the lane holds 2t, 2t + 1, so the k index of that product runs over the
 *     keys in the order 0, 2, 4, 6, 1, 3, 5, 7 (a0 = key 2t, a2 = key 2t + 1), and the V fragment is
 *     read in the same order (b0 = V[2t][g], b1 = V[2t + 1][g]);
 *   - masks are applied only on the tiles that need them: the tile crosses a row's causal limit or the
 *     key length, or a key mask exists (then as one bitmap word per 32 keys, built with a ballot).
 *
 * Exact fp32 (Math::kTF32x3): every fp32 operand x is split as x = hi + lo, hi = tf32(x),
 * lo = tf32(x - hi), and a product as a_hi b_hi + a_hi b_lo + a_lo b_hi (the dropped a_lo b_lo is about
 * 2^-22 of it). Each k-step's three products are summed on the tensor cores from zero and then added
 * to the fp32 accumulator on the CUDA cores (round to nearest), so the tensor cores' truncating
 * accumulation never acts on a long sum. kernel_emulation_test holds this family to SPEC's 1e-5
 * against float64.
 *
 * Split-K (plan.h): a CTA may own only part of its tile's key range; it then writes o, l and the
 * running maximum (as c_i m, base 2) to the workspace, and combine_kernel forms the output.
 */
#ifndef MMCA_CUDA_ATTENTION_CUH
#define MMCA_CUDA_ATTENTION_CUH

#include <math_constants.h>
#include <stdint.h>

#include <type_traits>

#include <mma_ops.cuh>

#include "common.cuh"
#include "plan.h"

namespace mmca_cuda {

/* The kernel families: how Q K^T and P V are multiplied. */
enum class Math { kF16, kBF16, kTF32, kTF32x3 };

template <Math M> struct MathElem { using type = float; };
template <> struct MathElem<Math::kF16> { using type = __half; };
template <> struct MathElem<Math::kBF16> { using type = __nv_bfloat16; };

/*
 * Rows of ChunksPerRow 16-byte chunks in shared memory, either swizzled (chunk c of row r stored at
 * c ^ (r % 8); needs whole 128-byte lines per row) or padded by one chunk (an odd pitch). Both put the
 * same chunk of 8 consecutive rows, which one ldmatrix matrix reads, in 8 different bank groups.
 */
template <int ChunksPerRow, bool Swizzle>
struct RowLayout {
    static_assert(!Swizzle || ChunksPerRow % 8 == 0, "a swizzled row is a whole number of 128-byte lines");
    static constexpr bool kSwizzled = Swizzle;
    static constexpr int kPitch = Swizzle ? ChunksPerRow : ChunksPerRow + 1;
    static __host__ __device__ constexpr int chunk(int r, int c) { return r * kPitch + (Swizzle ? (c ^ (r & 7)) : c); }
};

/* Shapes and shared-memory layout of one kernel instantiation (chosen in launch.cuh). */
template <Math M, int D, int Warps, int Keys, bool Swizzle>
struct AttentionConfig {
    using Elem = typename MathElem<M>::type;
    static constexpr Math kMath = M;
    static constexpr int kDimHead = D;
    static constexpr int kWarps = Warps;
    static constexpr int kThreads = 32 * Warps;
    static constexpr int kRows = 16 * Warps;
    static constexpr int kKeys = Keys;
    static constexpr int kChunks = D * (int)sizeof(Elem) / 16;  // 16-byte chunks per head vector
    static constexpr int kSteps = D * (int)sizeof(Elem) / 32;   // mma k-steps over the head dim (32 bytes each)
    static constexpr int kKeyBlocks = Keys / 8;                 // 8-key column blocks of S
    static constexpr int kDimBlocks = D / 8;                    // 8-column blocks of O
    using Layout = RowLayout<kChunks, Swizzle>;
    static constexpr int kTileBytes = Keys * Layout::kPitch * 16;  // one K or V tile
    static constexpr int kMaskWords = Keys / 32;
    // Shared memory: two stages of (K tile, V tile); the Q tile is staged in stage 1 before the loop.
    static constexpr size_t kStage0 = 0;
    static constexpr size_t kStage1 = 2 * (size_t)kTileBytes;
    static constexpr size_t kMasks = 4 * (size_t)kTileBytes;              // 2 x kMaskWords uint32
    static constexpr size_t kKeyNorms = kMasks + 2 * kMaskWords * 4;      // kKeys floats
    static constexpr size_t kScratch = kKeyNorms + (size_t)Keys * 4;     // kWarps ints
    static constexpr size_t kSmemBytes = (kScratch + 4 * (size_t)Warps + 15) / 16 * 16;

    static_assert(D % 16 == 0, "head dims are multiples of 16");
    static_assert(Keys % 32 == 0 && Keys >= 32, "key tiles are whole bitmap words");
    static_assert(kRows <= 2 * Keys, "the Q tile is staged in one K/V stage");
    static_assert(kThreads % Keys == 0, "whole threads per key for the key norms");
};

/* Whether the address and every stride (in elements of `bytes` each) keep 16-byte chunks aligned. */
__device__ __forceinline__ bool chunks_aligned(const void *base, size_t bytes, int64_t s0, int64_t s1, int64_t s2) {
    return reinterpret_cast<uintptr_t>(base) % 16 == 0 && (s0 * (int64_t)bytes) % 16 == 0
            && (s1 * (int64_t)bytes) % 16 == 0 && (s2 * (int64_t)bytes) % 16 == 0;
}

/*
 * Copies `rows` head vectors into a tile of shared memory: row r from row_ptr(r), or zeros where it
 * returns NULL (rows past the key limit or padding rows: zeros keep 0 * garbage out of P V). 16-byte
 * cp.async chunks when the source is aligned (completion: cp_async_wait + barrier), element by element
 * otherwise (completion: the barrier).
 */
template <class Cfg, class RowPtr>
__device__ __forceinline__ void stage_rows(unsigned char *tile, int rows, bool aligned, const typename Cfg::Elem *base,
                                           RowPtr row_ptr) {
    using Elem = typename Cfg::Elem;
    constexpr int kPerChunk = 16 / (int)sizeof(Elem);
    for (int idx = threadIdx.x; idx < rows * Cfg::kChunks; idx += Cfg::kThreads) {
        const int r = idx / Cfg::kChunks, c = idx % Cfg::kChunks;
        const Elem *src = row_ptr(r);
        unsigned char *dst = tile + Cfg::Layout::chunk(r, c) * 16;
        if (aligned) {
            cp_async_16(dst, src != nullptr ? src + c * kPerChunk : base, src != nullptr);
        } else {
            Elem *d = reinterpret_cast<Elem *>(dst);
#pragma unroll
            for (int e = 0; e < kPerChunk; e++) d[e] = src != nullptr ? src[c * kPerChunk + e] : from_float<Elem>(0.0f);
        }
    }
}

/* The sum of the squares of the values in one 32-bit fragment register: two 16-bit elements, or one fp32. */
template <typename Elem>
__device__ __forceinline__ float sum_squares(uint32_t reg) {
    if constexpr (sizeof(Elem) == 4) {
        const float x = __uint_as_float(reg);
        return x * x;
    } else {
        Elem e[2];
        memcpy(static_cast<void *>(e), &reg, 4);
        const float a = to_float(e[0]), b = to_float(e[1]);
        return fmaf(a, a, b * b);
    }
}

/* fp32 x = hi + lo in tf32 (see the exact family above). */
__device__ __forceinline__ void split_tf32(uint32_t x, uint32_t &hi, uint32_t &lo) {
    hi = tf32_round(__uint_as_float(x));
    lo = tf32_round(__uint_as_float(x) - __uint_as_float(hi));
}

/* acc += a * b for one mma shape of the family; b as loaded (tf32: a already rounded; exact: a, a_lo the parts of A). */
template <Math M>
__device__ __forceinline__ void mma_step(float (&acc)[4], const uint32_t (&a)[4], const uint32_t (&a_lo)[4], uint32_t b0,
                                         uint32_t b1) {
    if constexpr (M == Math::kBF16) {
        const uint32_t b[2] = {b0, b1};
        mma_bf16_16816(acc, a, b);
    } else if constexpr (M == Math::kF16) {
        const uint32_t b[2] = {b0, b1};
        mma_f16_16816(acc, a, b);
    } else if constexpr (M == Math::kTF32) {
        const uint32_t b[2] = {tf32_round(__uint_as_float(b0)), tf32_round(__uint_as_float(b1))};
        mma_tf32_1688(acc, a, b);
    } else {
        uint32_t hi[2], lo[2];
        split_tf32(b0, hi[0], lo[0]);
        split_tf32(b1, hi[1], lo[1]);
        float part[4] = {0.0f, 0.0f, 0.0f, 0.0f};
        mma_tf32_1688(part, a_lo, hi);  // small terms first, then the large one, all from zero
        mma_tf32_1688(part, a, lo);
        mma_tf32_1688(part, a, hi);
#pragma unroll
        for (int e = 0; e < 4; e++) acc[e] += part[e];
    }
}

/* Two consecutive output elements: one 4- or 8-byte store where aligned, else two. */
template <typename Elem>
__device__ __forceinline__ void store_pair(Elem *dst, float x, float y) {
    if (reinterpret_cast<uintptr_t>(dst) % (2 * sizeof(Elem)) == 0) {
        if constexpr (std::is_same<Elem, float>::value) {
            *reinterpret_cast<float2 *>(dst) = make_float2(x, y);
        } else if constexpr (std::is_same<Elem, __half>::value) {
            *reinterpret_cast<uint32_t *>(dst) = pack_f16x2(x, y);
        } else {
            *reinterpret_cast<uint32_t *>(dst) = pack_bf16x2(x, y);
        }
        return;
    }
    dst[0] = from_float<Elem>(x);
    dst[1] = from_float<Elem>(y);
}

/* One tile (rows x key range) of one problem; every thread of the CTA calls it. */
template <class Cfg>
__device__ __forceinline__ void attention_tile(const mmca_attention_params &p, const ProblemPlan &pp, const WorkItem &w,
                                               float *workspace, unsigned char *smem) {
    using Elem = typename Cfg::Elem;
    using Layout = typename Cfg::Layout;
    constexpr Math M = Cfg::kMath;
    constexpr bool k16Bit = sizeof(Elem) == 2;
    constexpr int D = Cfg::kDimHead, KEYS = Cfg::kKeys, NB = Cfg::kKeyBlocks, DB = Cfg::kDimBlocks;
    constexpr float kLog2e = 1.4426950408889634f;

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, g = lane / 4, t = lane % 4;
    const int b = w.b;
    unsigned char *const stage0 = smem + Cfg::kStage0, *const stage1 = smem + Cfg::kStage1;
    uint32_t *mask_words = reinterpret_cast<uint32_t *>(smem + Cfg::kMasks);
    float *key_norms = reinterpret_cast<float *>(smem + Cfg::kKeyNorms);
    int *scratch = reinterpret_cast<int *>(smem + Cfg::kScratch);

    // Rows g and g + 8 of this warp's 16: which query they are, and how far they see.
    const int limit = key_limit(p, b);
    RowRef row[2];
    bool active[2];
    int row_end[2];
    int warp_min_end = 0x7fffffff, warp_max_end = 0;
#pragma unroll
    for (int rr = 0; rr < 2; rr++) {
        row[rr] = row_of(p, pp, w, 16 * warp + g + 8 * rr);
        active[rr] = row[rr].valid && query_active(p, b, row[rr].i);
        row_end[rr] = active[rr] ? visible_end(p, b, row[rr].i, limit) : 0;
        if (active[rr]) {
            warp_min_end = min_int(warp_min_end, row_end[rr]);
            warp_max_end = max_int(warp_max_end, row_end[rr]);
        }
    }
#pragma unroll
    for (int o = 4; o < 32; o <<= 1) {  // lanes of one quad hold the same rows
        warp_min_end = min_int(warp_min_end, __shfl_xor_sync(0xffffffffu, warp_min_end, o));
        warp_max_end = max_int(warp_max_end, __shfl_xor_sync(0xffffffffu, warp_max_end, o));
    }
    if (lane == 0) scratch[warp] = warp_max_end;
    __syncthreads();
    int kv_end = 0;
#pragma unroll
    for (int k = 0; k < Cfg::kWarps; k++) kv_end = max_int(kv_end, scratch[k]);
    const int tiles = (kv_end + KEYS - 1) / KEYS;
    const int t_lo = (int)((long long)w.split * tiles / pp.splits);
    const int t_hi = (int)((long long)(w.split + 1) * tiles / pp.splits);

    float m[2] = {-CUDART_INF_F, -CUDART_INF_F}, l[2] = {0.0f, 0.0f}, c[2] = {0.0f, 0.0f};
    float o[DB][4];
#pragma unroll
    for (int nd = 0; nd < DB; nd++) o[nd][0] = o[nd][1] = o[nd][2] = o[nd][3] = 0.0f;

    if (t_lo < t_hi) {  // the same for the whole CTA
        const int g_head = w.g;
        const Elem *qb = static_cast<const Elem *>(p.q) + b * p.q_batch_stride;
        const Elem *kb = static_cast<const Elem *>(p.k) + b * p.k_batch_stride + g_head * p.k_head_stride;
        const Elem *vb = static_cast<const Elem *>(p.v) + b * p.v_batch_stride + g_head * p.v_head_stride;
        const bool q_aligned = chunks_aligned(p.q, sizeof(Elem), p.q_batch_stride, p.q_row_stride, p.q_head_stride);
        const bool k_aligned = chunks_aligned(p.k, sizeof(Elem), p.k_batch_stride, p.k_row_stride, p.k_head_stride);
        const bool v_aligned = chunks_aligned(p.v, sizeof(Elem), p.v_batch_stride, p.v_row_stride, p.v_head_stride);
        const uint8_t *key_mask = p.key_mask != nullptr ? p.key_mask + b * p.key_mask_batch_stride : nullptr;

        auto stage_kv = [&](int tile, unsigned char *dst, uint32_t *words) {
            const int kv0 = tile * KEYS;
            stage_rows<Cfg>(dst, KEYS, k_aligned, static_cast<const Elem *>(p.k), [&](int r) -> const Elem * {
                return kv0 + r < limit ? kb + (long long)(kv0 + r) * p.k_row_stride : nullptr;
            });
            stage_rows<Cfg>(dst + Cfg::kTileBytes, KEYS, v_aligned, static_cast<const Elem *>(p.v),
                            [&](int r) -> const Elem * {
                                return kv0 + r < limit ? vb + (long long)(kv0 + r) * p.v_row_stride : nullptr;
                            });
            if (key_mask != nullptr && warp < Cfg::kMaskWords) {  // bit j of word k: key kv0 + 32k + j is real
                const int j = kv0 + 32 * warp + lane;
                const unsigned word = __ballot_sync(0xffffffffu, j < p.keys && key_mask[j] != 0);
                if (lane == 0) words[warp] = word;
            }
        };

        // Prologue: the Q tile into stage 1, the first K/V tile into stage 0.
        stage_rows<Cfg>(stage1, Cfg::kRows, q_aligned, static_cast<const Elem *>(p.q), [&](int r) -> const Elem * {
            const RowRef ref = row_of(p, pp, w, r);
            return ref.valid ? qb + (long long)ref.i * p.q_row_stride + ref.h * p.q_head_stride : nullptr;
        });
        stage_kv(t_lo, stage0, mask_words);
        cp_async_commit();
        cp_async_wait<0>();
        __syncthreads();

        // Q fragments for the whole key loop (ldmatrix: matrix lane / 8 = rows +8 if odd, chunk +1 if >= 2).
        uint32_t qf[Cfg::kSteps][4];  // tf32: rounded; exact family: raw fp32, split at each use
        float q_ss[2] = {0.0f, 0.0f};
#pragma unroll
        for (int kk = 0; kk < Cfg::kSteps; kk++) {
            const int r = 16 * warp + ((lane >> 3) & 1) * 8 + (lane & 7);
            ldmatrix_x4(qf[kk], stage1 + Layout::chunk(r, 2 * kk + ((lane >> 4) & 1)) * 16);
            q_ss[0] += sum_squares<Elem>(qf[kk][0]) + sum_squares<Elem>(qf[kk][2]);
            q_ss[1] += sum_squares<Elem>(qf[kk][1]) + sum_squares<Elem>(qf[kk][3]);
            if constexpr (M == Math::kTF32) {
#pragma unroll
                for (int e = 0; e < 4; e++) qf[kk][e] = tf32_round(__uint_as_float(qf[kk][e]));
            }
        }
#pragma unroll
        for (int rr = 0; rr < 2; rr++) {
            float inv = 1.0f;
            if (p.qk_norm) {  // SPEC step 3: q / max(||q||, 1e-12), folded into the row's factor
                float ss = q_ss[rr];
                ss += __shfl_xor_sync(0xffffffffu, ss, 1);
                ss += __shfl_xor_sync(0xffffffffu, ss, 2);
                inv = inv_norm(ss);
            }
            c[rr] = p.scale * kLog2e * inv;
        }

        for (int tile = t_lo; tile < t_hi; tile++) {
            const int s_idx = (tile - t_lo) & 1;
            const int kv0 = tile * KEYS;
            // This thread's copies of tile `tile` have landed; the barrier makes everyone's visible and
            // ends every read of the other stage (tile - 1, or the Q tile), which the next copy overwrites.
            cp_async_wait<0>();
            __syncthreads();
            if (tile + 1 < t_hi) stage_kv(tile + 1, s_idx ? stage0 : stage1, mask_words + (s_idx ^ 1) * Cfg::kMaskWords);
            cp_async_commit();
            const unsigned char *ks = s_idx ? stage1 : stage0;
            const unsigned char *vs = ks + Cfg::kTileBytes;

            if (p.qk_norm) {  // 1 / max(||k_j||, 1e-12) for the tile's keys, kThreads / KEYS threads per key
                constexpr int kPer = Cfg::kThreads / KEYS;
                const int key = threadIdx.x / kPer, part = threadIdx.x % kPer;
                float ss = 0.0f;
                for (int ch = part; ch < Cfg::kChunks; ch += kPer) {
                    const uint32_t *v4 = reinterpret_cast<const uint32_t *>(ks + Layout::chunk(key, ch) * 16);
#pragma unroll
                    for (int e = 0; e < 4; e++) ss += sum_squares<Elem>(v4[e]);
                }
#pragma unroll
                for (int o2 = 1; o2 < kPer; o2 <<= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o2);
                if (part == 0) key_norms[key] = inv_norm(ss);
                __syncthreads();
            }
            if (kv0 >= warp_max_end) continue;  // no row of this warp sees a key of this tile

            // S = Q K^T for this warp's 16 rows (ldmatrix: keys +8 if lane >= 16, chunk +1 if lane / 8 odd).
            float s[NB][4];
#pragma unroll
            for (int nb = 0; nb < NB; nb++) s[nb][0] = s[nb][1] = s[nb][2] = s[nb][3] = 0.0f;
#pragma unroll
            for (int kk = 0; kk < Cfg::kSteps; kk++) {
                uint32_t qa[4], qa_lo[4];
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    if constexpr (M == Math::kTF32x3) {
                        // Split anew on every tile: hoisted out of the key loop, the low parts would
                        // double Q's registers for the whole loop (the empty asm hides that qf is invariant).
                        uint32_t x = qf[kk][e];
                        asm volatile("" : "+r"(x));
                        split_tf32(x, qa[e], qa_lo[e]);
                    } else {
                        qa[e] = qf[kk][e];
                        qa_lo[e] = 0;
                    }
                }
#pragma unroll
                for (int np = 0; np < NB / 2; np++) {
                    uint32_t kf[4];
                    const int r = np * 16 + ((lane >> 4) & 1) * 8 + (lane & 7);
                    ldmatrix_x4(kf, ks + Layout::chunk(r, 2 * kk + ((lane >> 3) & 1)) * 16);
                    mma_step<M>(s[2 * np], qa, qa_lo, kf[0], kf[1]);
                    mma_step<M>(s[2 * np + 1], qa, qa_lo, kf[2], kf[3]);
                }
            }
            if (p.qk_norm) {
#pragma unroll
                for (int nb = 0; nb < NB; nb++) {
#pragma unroll
                    for (int e = 0; e < 4; e++) s[nb][e] *= key_norms[nb * 8 + 2 * t + (e & 1)];
                }
            }
            // Masks, only where some key of the tile is hidden from some row of this warp.
            if (key_mask != nullptr || kv0 + KEYS > warp_min_end) {
                const uint32_t *words = mask_words + s_idx * Cfg::kMaskWords;
#pragma unroll
                for (int nb = 0; nb < NB; nb++) {
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        const int jj = nb * 8 + 2 * t + (e & 1);
                        bool visible = kv0 + jj < row_end[e >> 1];
                        if (key_mask != nullptr) visible = visible && ((words[jj >> 5] >> (jj & 31)) & 1u);
                        if (!visible) s[nb][e] = -CUDART_INF_F;
                    }
                }
            }

            // Online softmax on the fragments; the four lanes of a quad share rows g and g + 8.
            float base[2];
#pragma unroll
            for (int rr = 0; rr < 2; rr++) {
                float mx = -CUDART_INF_F;
#pragma unroll
                for (int nb = 0; nb < NB; nb++) mx = fmaxf(mx, fmaxf(s[nb][2 * rr], s[nb][2 * rr + 1]));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
                mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
                const float m_new = fmaxf(m[rr], mx);
                base[rr] = m_new == -CUDART_INF_F ? 0.0f : m_new * c[rr];  // no key yet: -inf - 0, never inf - inf
                const float alpha = exp2f(m[rr] * c[rr] - base[rr]);       // 0 on the first tile a row sees
                m[rr] = m_new;
                l[rr] *= alpha;
#pragma unroll
                for (int nd = 0; nd < DB; nd++) {
                    o[nd][2 * rr] *= alpha;
                    o[nd][2 * rr + 1] *= alpha;
                }
            }
#pragma unroll
            for (int nb = 0; nb < NB; nb++) {
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    s[nb][e] = exp2f(fmaf(s[nb][e], c[e >> 1], -base[e >> 1]));  // -inf -> 0
                    l[e >> 1] += s[nb][e];  // this lane's columns; the quad's sum is formed at the end
                }
            }

            // O += P V with P from the registers.
            if constexpr (k16Bit) {
#pragma unroll
                for (int kk = 0; kk < KEYS / 16; kk++) {
                    uint32_t a[4];
                    if constexpr (M == Math::kBF16) {
                        a[0] = pack_bf16x2(s[2 * kk][0], s[2 * kk][1]);
                        a[1] = pack_bf16x2(s[2 * kk][2], s[2 * kk][3]);
                        a[2] = pack_bf16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                        a[3] = pack_bf16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
                    } else {
                        a[0] = pack_f16x2(s[2 * kk][0], s[2 * kk][1]);
                        a[1] = pack_f16x2(s[2 * kk][2], s[2 * kk][3]);
                        a[2] = pack_f16x2(s[2 * kk + 1][0], s[2 * kk + 1][1]);
                        a[3] = pack_f16x2(s[2 * kk + 1][2], s[2 * kk + 1][3]);
                    }
#pragma unroll
                    for (int dp = 0; dp < DB / 2; dp++) {
                        uint32_t vf[4];  // transposed: keys +8 if lane / 8 odd, chunk +1 if lane >= 16
                        const int r = kk * 16 + ((lane >> 3) & 1) * 8 + (lane & 7);
                        ldmatrix_x4_trans(vf, vs + Layout::chunk(r, 2 * dp + ((lane >> 4) & 1)) * 16);
                        mma_step<M>(o[2 * dp], a, a, vf[0], vf[1]);
                        mma_step<M>(o[2 * dp + 1], a, a, vf[2], vf[3]);
                    }
                }
            } else {
                // k order of this product: a0 = key 2t, a2 = key 2t + 1 (rows g, g + 8 in a0/a1, a2/a3).
                uint32_t a[KEYS / 8][4], a_lo[KEYS / 8][4];
#pragma unroll
                for (int kk = 0; kk < KEYS / 8; kk++) {
                    const float pv[4] = {s[kk][0], s[kk][2], s[kk][1], s[kk][3]};
#pragma unroll
                    for (int e = 0; e < 4; e++) {
                        if constexpr (M == Math::kTF32x3) {
                            split_tf32(__float_as_uint(pv[e]), a[kk][e], a_lo[kk][e]);
                        } else {
                            a[kk][e] = tf32_round(pv[e]);
                            a_lo[kk][e] = 0;
                        }
                    }
                }
                // One 8-column block of O at a time, over all keys of the tile: few V values in flight.
#pragma unroll
                for (int nd = 0; nd < DB; nd++) {
                    const int col = nd * 8 + g;
#pragma unroll
                    for (int kk = 0; kk < KEYS / 8; kk++) {
                        const int r0 = kk * 8 + 2 * t;
                        const uint32_t b0 = *reinterpret_cast<const uint32_t *>(vs + Layout::chunk(r0, col / 4) * 16 + (col % 4) * 4);
                        const uint32_t b1 = *reinterpret_cast<const uint32_t *>(vs + Layout::chunk(r0 + 1, col / 4) * 16 + (col % 4) * 4);
                        mma_step<M>(o[nd], a[kk], a_lo[kk], b0, b1);
                    }
                }
            }
        }
    }

    // Epilogue: the quad's row sums, then the output (or this key range's partial result).
#pragma unroll
    for (int rr = 0; rr < 2; rr++) {
        l[rr] += __shfl_xor_sync(0xffffffffu, l[rr], 1);
        l[rr] += __shfl_xor_sync(0xffffffffu, l[rr], 2);
    }
#pragma unroll
    for (int rr = 0; rr < 2; rr++) {
        if (!row[rr].valid) continue;
        const RowRef &ref = row[rr];
        const bool seen = active[rr] && l[rr] > 0.0f;  // SPEC step 5: no visible key, or a masked row -> zeros
        if (pp.splits == 1) {
            Elem *out = static_cast<Elem *>(p.o) + b * p.o_batch_stride + (long long)ref.i * p.o_row_stride
                    + ref.h * p.o_head_stride;
            // A row that sees keys always has l >= 1; l = 0 means every score overflowed downwards (-inf, or -FLT_MAX
            // where the tensor cores' truncation saturates q.k): NaN, for the host to report.
            const bool lost = active[rr] && !seen && sees_a_key(p, b, ref.i);
            const float inv_l = seen ? 1.0f / l[rr] : (lost ? CUDART_NAN_F : 0.0f);
#pragma unroll
            for (int nd = 0; nd < DB; nd++) {
                store_pair(out + nd * 8 + 2 * t, seen ? o[nd][2 * rr] * inv_l : inv_l, seen ? o[nd][2 * rr + 1] * inv_l : inv_l);
            }
        } else {
            const long long out_row = ((long long)b * p.heads + ref.h) * p.queries + ref.i;
            const long long slot = out_row * pp.splits + w.split;
            float *po = workspace + pp.partial_offset + slot * D;
#pragma unroll
            for (int nd = 0; nd < DB; nd++) {
                *reinterpret_cast<float2 *>(po + nd * 8 + 2 * t) =
                        make_float2(seen ? o[nd][2 * rr] : 0.0f, seen ? o[nd][2 * rr + 1] : 0.0f);
            }
            if (t == 0) {
                float *st = workspace + pp.stats_offset + slot * 2;
                st[0] = seen ? m[rr] * c[rr] : -CUDART_INF_F;
                st[1] = seen ? l[rr] : 0.0f;
            }
        }
    }
}

/* The kernel arguments: both problems (self, cross), their decomposition and the split-K workspace. */
struct AttentionArgs {
    mmca_text_params tp;
    WorkPlan plan;
    float *workspace;
};

/* One CTA per work item of the plan (plan.h: decode_work), 1-D grid over all problems. */
template <class Cfg>
__global__ void __launch_bounds__(Cfg::kThreads) attention_kernel(const __grid_constant__ AttentionArgs args) {
    extern __shared__ __align__(128) unsigned char attention_smem[];
    const WorkItem w = decode_work(args.plan, (int64_t)blockIdx.x);
    const mmca_attention_params &p = w.problem == 0 ? args.tp.self : args.tp.cross;
    attention_tile<Cfg>(p, args.plan.problem[w.problem], w, args.workspace, attention_smem);
}

/*
 * The split-K combine: one warp per output row (b, h, i) of the split problems,
 *   M = max_s m_s,  out = sum_s 2^(m_s - M) o_s / sum_s 2^(m_s - M) l_s  (zeros when no split saw a key).
 */
constexpr int kCombineThreads = 128;

template <typename Elem>
__global__ void __launch_bounds__(kCombineThreads) combine_kernel(const __grid_constant__ AttentionArgs args) {
    const long long warp_row = (long long)blockIdx.x * (kCombineThreads / 32) + threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    long long row = warp_row;
    int problem = -1;
    for (int k = 0; k < args.plan.problems; k++) {
        const mmca_attention_params &pk = k == 0 ? args.tp.self : args.tp.cross;
        if (args.plan.problem[k].splits <= 1) continue;
        const long long rows = (long long)pk.batch * pk.heads * pk.queries;
        if (row < rows) {
            problem = k;
            break;
        }
        row -= rows;
    }
    if (problem < 0) return;
    const mmca_attention_params &p = problem == 0 ? args.tp.self : args.tp.cross;
    const ProblemPlan &pp = args.plan.problem[problem];
    const int S = pp.splits, D = p.dim_head;
    const int i = (int)(row % p.queries), h = (int)(row / p.queries % p.heads), b = (int)(row / ((long long)p.queries * p.heads));
    const float *stats = args.workspace + pp.stats_offset + row * S * 2;
    const float *parts = args.workspace + pp.partial_offset + row * S * D;
    float big = -CUDART_INF_F;
    for (int s = 0; s < S; s++) big = fmaxf(big, stats[2 * s]);
    float total = 0.0f;
    if (big != -CUDART_INF_F) {
        for (int s = 0; s < S; s++) {
            if (stats[2 * s] != -CUDART_INF_F) total += exp2f(stats[2 * s] - big) * stats[2 * s + 1];
        }
    }
    // No split saw a finite score (each wrote m = -inf where its l was 0): zeros, unless the row sees keys (every
    // score overflowed downwards): NaN, for the host to report.
    const float inv = total > 0.0f ? 1.0f / total : (big == -CUDART_INF_F && sees_a_key(p, b, i) ? CUDART_NAN_F : 0.0f);
    Elem *out = static_cast<Elem *>(p.o) + b * p.o_batch_stride + (long long)i * p.o_row_stride + h * p.o_head_stride;
    for (int d = lane; d < D; d += 32) {
        float acc = 0.0f;
        if (total > 0.0f) {
            for (int s = 0; s < S; s++) {
                if (stats[2 * s] != -CUDART_INF_F) acc += exp2f(stats[2 * s] - big) * parts[(long long)s * D + d];
            }
        }
        out[d] = from_float<Elem>(total > 0.0f ? acc * inv : inv);
    }
}

}  // namespace mmca_cuda

#endif
