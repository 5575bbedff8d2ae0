/*
 * Tensor-core attention (WMMA): fp16 and bf16 data with fp32 accumulation, or fp32 data with TF32
 * products. Same tiling and online softmax as the exact kernel (SPEC step 5), all softmax
 * arithmetic in fp32:
 *   S = Q K^T (tensor cores, fp32 accumulators)  ->  s = scale * S over visible keys
 *   m' = max(m, rowmax s),  alpha = exp(m - m'),  P = exp(s - m'),  l' = alpha l + rowsum P
 *   O' = alpha O + P V (tensor cores; P rounded to the data type first, as in FlashAttention)
 *
 * A CTA of 4 warps owns 64 query rows of one (batch, head); warp w owns rows [16w, 16w + 16).
 * Q, K, V and P are staged in shared memory in the data type; S and the P V product in fp32.
 * The running output O stays in registers: lane L holds row L / 2, columns (L % 2) * D / 2 ...
 */
#ifndef MMCA_CUDA_ATTENTION_TC_CUH
#define MMCA_CUDA_ATTENTION_TC_CUH

#include <math_constants.h>
#include <mma.h>

#include "common.cuh"

namespace mmca_cuda {

namespace wmma = nvcuda::wmma;

template <typename T> struct TcTraits;
template <> struct TcTraits<__half> {
    using Frag = __half;
    static constexpr int kStep = 16, kKeys = 64, kPad = 8;
};
template <> struct TcTraits<__nv_bfloat16> {
    using Frag = __nv_bfloat16;
    static constexpr int kStep = 16, kKeys = 64, kPad = 8;
};
template <> struct TcTraits<float> {  // fp32 data, TF32 products
    using Frag = wmma::precision::tf32;
    static constexpr int kStep = 8, kKeys = 32, kPad = 4;
};

/* Shared-memory layout of one CTA (element offsets and leading dimensions); every region starts 128-byte aligned. */
template <typename T, int D>
struct TcLayout {
    static constexpr int kWarps = 4, kThreads = 128, kRows = 64;
    static constexpr int BC = TcTraits<T>::kKeys;
    static constexpr int LDQ = D + TcTraits<T>::kPad;   // Q, K, V rows (T)
    static constexpr int LDS = BC + 4;                  // S rows (float)
    static constexpr int LDP = BC + TcTraits<T>::kPad;  // P rows (T)
    static constexpr int LDO = D + 4;                   // P V rows (float)
    static constexpr size_t align(size_t x) { return (x + 127) / 128 * 128; }
    static constexpr size_t kQ = 0;
    static constexpr size_t kK = kQ + align(sizeof(T) * kRows * LDQ);
    static constexpr size_t kV = kK + align(sizeof(T) * BC * LDQ);
    static constexpr size_t kS = kV + align(sizeof(T) * BC * LDQ);
    static constexpr size_t kP = kS + align(sizeof(float) * kRows * LDS);
    static constexpr size_t kO = kP + align(sizeof(T) * kRows * LDP);
    static constexpr size_t kBytes = kO + align(sizeof(float) * kRows * LDO);
};

template <typename Fragment>
__device__ __forceinline__ void round_to_tf32(Fragment &f) {
#pragma unroll
    for (int t = 0; t < f.num_elements; t++) f.x[t] = wmma::__float_to_tf32(f.x[t]);
}

/* Rounds fragment elements to TF32 when the data is fp32; nothing for fp16/bf16. */
template <typename T, typename Fragment>
__device__ __forceinline__ void prepare_fragment(Fragment &f) {
    if constexpr (sizeof(T) == 4) round_to_tf32(f);
}

/*
 * Copies `rows` head vectors (row r at src + r * row_stride) into shared memory as T, L2-normalised
 * when qk_norm; rows past `valid` are zero. Warp-per-row, so the norm is a warp reduction. Plain
 * copies move 16 bytes per lane and step when the source rows are 16-byte aligned (the usual case:
 * packed projections with D a multiple of 16), element by element otherwise.
 */
template <typename T, int D>
__device__ __forceinline__ void stage_rows(T *dst, int ld, const T *src, long long row_stride, int rows, int valid,
                                           bool normalise, int warp, int lane, int warps) {
    constexpr int kChunks = D * (int)sizeof(T) / 16;  // 16-byte chunks per head vector (D % 16 == 0)
    const bool vector = !normalise && (reinterpret_cast<uintptr_t>(src) % 16 == 0)
            && (row_stride * (long long)sizeof(T)) % 16 == 0;
    for (int r = warp; r < rows; r += warps) {
        const T *s = src + (long long)r * row_stride;
        const bool live = r < valid;
        if (vector) {
            uint4 *d4 = reinterpret_cast<uint4 *>(dst + r * ld);
            const uint4 *s4 = reinterpret_cast<const uint4 *>(s);
            for (int c = lane; c < kChunks; c += 32) d4[c] = live ? s4[c] : make_uint4(0, 0, 0, 0);
            continue;
        }
        float inv = 1.0f;
        if (normalise && live) {
            float ss = 0.0f;
            for (int c = lane; c < D; c += 32) {
                const float x = to_float(s[c]);
                ss = fmaf(x, x, ss);
            }
            inv = inv_norm(warp_sum(ss));
        }
        for (int c = lane; c < D; c += 32) {
            dst[r * ld + c] = live ? (normalise ? from_float<T>(to_float(s[c]) * inv) : s[c]) : from_float<T>(0.0f);
        }
    }
}

template <typename T, int D>
__device__ void tc_attention_tile(const mmca_attention_params &p, int b, int h, int q0, char *smem) {
    using L = TcLayout<T, D>;
    using Frag = typename TcTraits<T>::Frag;
    constexpr int BC = L::BC, KS = TcTraits<T>::kStep, HALF = D / 2;
    T *sq = reinterpret_cast<T *>(smem + L::kQ);
    T *sk = reinterpret_cast<T *>(smem + L::kK);
    T *sv = reinterpret_cast<T *>(smem + L::kV);
    float *ss = reinterpret_cast<float *>(smem + L::kS);
    T *sp = reinterpret_cast<T *>(smem + L::kP);
    float *so = reinterpret_cast<float *>(smem + L::kO);

    const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int g = kv_head_of(p, h);
    const T *qp = static_cast<const T *>(p.q) + b * p.q_batch_stride + h * p.q_head_stride;
    const T *kp = static_cast<const T *>(p.k) + b * p.k_batch_stride + g * p.k_head_stride;
    const T *vp = static_cast<const T *>(p.v) + b * p.v_batch_stride + g * p.v_head_stride;

    // This lane's row of the running output and softmax state.
    const int my_row = warp * 16 + lane / 2;
    const int i = q0 + my_row;
    const int col0 = (lane % 2) * HALF;
    const bool active = query_active(p, b, i);
    float m = -CUDART_INF_F, l = 0.0f;
    float o[HALF];
#pragma unroll
    for (int t = 0; t < HALF; t++) o[t] = 0.0f;

    __syncthreads();  // shared memory may still be read by a previous problem
    stage_rows<T, D>(sq, L::LDQ, qp + (long long)q0 * p.q_row_stride, p.q_row_stride, L::kRows, p.queries - q0,
                     p.qk_norm != 0, warp, lane, L::kWarps);

    const int end = key_end(p, q0, L::kRows);
    for (int kv0 = 0; kv0 < end; kv0 += BC) {
        __syncthreads();  // the previous K/V tile is no longer read
        stage_rows<T, D>(sk, L::LDQ, kp + (long long)kv0 * p.k_row_stride, p.k_row_stride, BC, p.keys - kv0,
                         p.qk_norm != 0, warp, lane, L::kWarps);
        stage_rows<T, D>(sv, L::LDQ, vp + (long long)kv0 * p.v_row_stride, p.v_row_stride, BC, p.keys - kv0,
                         false, warp, lane, L::kWarps);
        __syncthreads();

        // S[16 rows of this warp, BC] = Q K^T
#pragma unroll
        for (int n = 0; n < BC / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, KS, float> acc;
            wmma::fill_fragment(acc, 0.0f);
#pragma unroll
            for (int k0 = 0; k0 < D; k0 += KS) {
                wmma::fragment<wmma::matrix_a, 16, 16, KS, Frag, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, KS, Frag, wmma::col_major> bt;
                wmma::load_matrix_sync(a, sq + warp * 16 * L::LDQ + k0, L::LDQ);
                wmma::load_matrix_sync(bt, sk + n * 16 * L::LDQ + k0, L::LDQ);
                prepare_fragment<T>(a);
                prepare_fragment<T>(bt);
                wmma::mma_sync(acc, a, bt, acc);
            }
            wmma::store_matrix_sync(ss + warp * 16 * L::LDS + n * 16, acc, L::LDS, wmma::mem_row_major);
        }
        __syncwarp();

        // Online softmax in fp32: two lanes per row, each over half of the tile's keys.
        constexpr int HK = BC / 2;
        const int k_half = (lane % 2) * HK;
        float s[HK];
        float tile_max = -CUDART_INF_F;
#pragma unroll
        for (int c = 0; c < HK; c++) {
            const bool vis = active && key_visible(p, b, i, kv0 + k_half + c);
            s[c] = vis ? ss[my_row * L::LDS + k_half + c] * p.scale : -CUDART_INF_F;
            tile_max = fmaxf(tile_max, s[c]);
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        // Rows of one warp may differ in whether they see any key here, so every lane takes the same
        // path through the shuffles below and only the state update depends on `any`.
        const bool any = tile_max != -CUDART_INF_F;
        const float m_new = fmaxf(m, tile_max);
        const float alpha = any ? __expf(m - m_new) : 1.0f;  // exp(-inf) = 0 on the first visible tile
        float sum = 0.0f;
#pragma unroll
        for (int c = 0; c < HK; c++) {
            const float pc = (any && s[c] != -CUDART_INF_F) ? __expf(s[c] - m_new) : 0.0f;
            sum += pc;
            sp[my_row * L::LDP + k_half + c] = from_float<T>(pc);
        }
        sum += __shfl_xor_sync(0xffffffffu, sum, 1);
        if (any) {
            l = l * alpha + sum;
            m = m_new;
        }
        __syncwarp();

        // (P V)[16 rows, D] for this warp, into fp32 shared memory.
#pragma unroll
        for (int n = 0; n < D / 16; n++) {
            wmma::fragment<wmma::accumulator, 16, 16, KS, float> acc;
            wmma::fill_fragment(acc, 0.0f);
#pragma unroll
            for (int k0 = 0; k0 < BC; k0 += KS) {
                wmma::fragment<wmma::matrix_a, 16, 16, KS, Frag, wmma::row_major> a;
                wmma::fragment<wmma::matrix_b, 16, 16, KS, Frag, wmma::row_major> bv;
                wmma::load_matrix_sync(a, sp + warp * 16 * L::LDP + k0, L::LDP);
                wmma::load_matrix_sync(bv, sv + k0 * L::LDQ + n * 16, L::LDQ);
                prepare_fragment<T>(a);
                prepare_fragment<T>(bv);
                wmma::mma_sync(acc, a, bv, acc);
            }
            wmma::store_matrix_sync(so + warp * 16 * L::LDO + n * 16, acc, L::LDO, wmma::mem_row_major);
        }
        __syncwarp();
#pragma unroll
        for (int t = 0; t < HALF; t++) o[t] = fmaf(o[t], alpha, so[my_row * L::LDO + col0 + t]);
    }

    if (i < p.queries) {
        T *op = static_cast<T *>(p.o) + b * p.o_batch_stride + (long long)i * p.o_row_stride + h * p.o_head_stride;
        const bool any = active && l > 0.0f;  // SPEC step 5: no visible key (or a masked row) -> zeros
        const float inv_l = any ? 1.0f / l : 0.0f;
#pragma unroll
        for (int t = 0; t < HALF; t++) op[col0 + t] = from_float<T>(any ? o[t] * inv_l : 0.0f);
    }
}

template <typename T, int D>
__global__ void __launch_bounds__(128) tc_attention_kernel(mmca_text_params tp, int nproblems) {
    extern __shared__ __align__(128) char smem[];
    const int q0 = blockIdx.x * TcLayout<T, D>::kRows;
    tc_attention_tile<T, D>(tp.self, blockIdx.z, blockIdx.y, q0, smem);
    if (nproblems > 1) tc_attention_tile<T, D>(tp.cross, blockIdx.z, blockIdx.y, q0, smem);
}

}  // namespace mmca_cuda

#endif
