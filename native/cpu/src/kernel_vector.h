// Vector helpers of the per-instruction-set kernels (MMCA_KERNEL_SOURCES), included by a kernel source that is
// compiled once per ISA with MMCA_VEC_WIDTH (floats per vector) and MMCA_VEC_CHUNK (vectors per register
// block column) defined. Everything here has internal linkage (an anonymous namespace) and uses no
// standard-library template, so no code built with one ISA's instructions can be shared with another path.
#ifndef MMCA_CPU_KERNEL_VECTOR_H
#define MMCA_CPU_KERNEL_VECTOR_H

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#ifndef MMCA_VEC_WIDTH
#error "kernel_vector.h is for the per-ISA kernel sources (MMCA_VEC_WIDTH undefined)"
#endif

namespace mmca::cpu {
namespace {
namespace vec {

constexpr int W = MMCA_VEC_WIDTH;   // floats per vector
constexpr int NV = MMCA_VEC_CHUNK;  // vectors per register block column
constexpr float NEG_INF = -__builtin_huge_valf();

typedef float vf __attribute__((vector_size(W * sizeof(float))));
typedef int32_t vi __attribute__((vector_size(W * sizeof(float))));

inline vf load(const float *p) {
    vf v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float *p, vf v) { std::memcpy(p, &v, sizeof v); }
// A broadcast: x - 0 is x for every x, so the compiler emits the broadcast alone. (vf{} + x is a real
// addition without fast-math, since 0 + -0 is +0: an add and a dependency before every broadcast.)
inline vf splat(float x) { return x - vf{}; }
inline vf vmax(vf a, vf b) { return a > b ? a : b; }

inline float hmax(vf v) {
    float m = v[0];
    for (int i = 1; i < W; i++) m = v[i] > m ? v[i] : m;
    return m;
}
inline float hsum(vf v) {
    float s = v[0];
    for (int i = 1; i < W; i++) s += v[i];
    return s;
}
inline int round_up(int x, int m) { return (x + m - 1) / m * m; }

// out[j] = the sum of the lanes of x_j, for four vectors at once: their lanes folded together by pairwise
// (horizontal) additions, about five instructions, where four hsum calls are four serial chains of W - 1
// scalar additions. The order of the additions is a fixed tree, the same for every call.
inline void hsum4(vf x0, vf x1, vf x2, vf x3, float *out) {
#if defined(__AVX512F__) && MMCA_VEC_WIDTH == 16
    const __m256 a0 = _mm256_add_ps(_mm512_castps512_ps256(x0), _mm512_extractf32x8_ps(x0, 1));
    const __m256 a1 = _mm256_add_ps(_mm512_castps512_ps256(x1), _mm512_extractf32x8_ps(x1, 1));
    const __m256 a2 = _mm256_add_ps(_mm512_castps512_ps256(x2), _mm512_extractf32x8_ps(x2, 1));
    const __m256 a3 = _mm256_add_ps(_mm512_castps512_ps256(x3), _mm512_extractf32x8_ps(x3, 1));
#elif defined(__AVX__) && MMCA_VEC_WIDTH == 8
    const __m256 a0 = x0, a1 = x1, a2 = x2, a3 = x3;
#endif
#if defined(__AVX__) && MMCA_VEC_WIDTH >= 8
    // [a0 01 23 | a1 01 23 ...] pairs, then quads per 128-bit half, then the two halves added
    const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1)));
#elif MMCA_VEC_WIDTH == 4
    __m128 r0 = x0, r1 = x1, r2 = x2, r3 = x3;
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(out, _mm_add_ps(_mm_add_ps(r0, r1), _mm_add_ps(r2, r3)));
#else
    out[0] = hsum(x0);
    out[1] = hsum(x1);
    out[2] = hsum(x2);
    out[3] = hsum(x3);
#endif
}

// exp(x) for x <= 0 (a logit minus the running maximum, or -inf for a hidden key), about 1 ulp:
// x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), exp(r) by a degree-6 minimax polynomial
// (Cephes expf coefficients), times 2^n built in the exponent bits. Below -87.33 the result is exactly 0.
inline vf vexp(vf x) {
    const vf lo = splat(-87.336544f);
    vi under = x < lo;
    x = x < lo ? lo : x;
    const vf magic = splat(12582912.0f);  // 1.5 * 2^23: adding and subtracting rounds to an integer
    vf n = (x * 1.44269504088896341f + magic) - magic;
    vf r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    vf p = splat(1.9875691500e-4f);
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    vf y = p * (r * r) + r + 1.0f;
    vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
    vf two_n;
    std::memcpy(&two_n, &bits, sizeof two_n);
    y = y * two_n;
    vi yi;
    std::memcpy(&yi, &y, sizeof yi);
    yi &= ~under;
    std::memcpy(&y, &yi, sizeof y);
    return y;
}

inline float sexp(float x) {
    vf v = vexp(splat(x));
    return v[0];
}

// One online-softmax step of a row over the columns [c_lo, c_hi) of its scores s (multiples of W; hidden
// columns already -inf): m' = max(m, max_c s_c); s becomes exp(s - m') in place, l = alpha l + sum_c exp(s_c - m'),
// m = m'; returns alpha = exp(m - m'), the factor of the row's earlier O. A row that sees nothing yet (every score
// -inf) keeps its state, gets zero weights and alpha 1.
inline float softmax_step(float *s, int c_lo, int c_hi, float &m, float &l) {
    vf mx = splat(NEG_INF);
    for (int c = c_lo; c < c_hi; c += W) mx = vmax(mx, load(s + c));
    const float tile_max = hmax(mx);
    const float m_new = tile_max > m ? tile_max : m;
    if (m_new == NEG_INF) {
        for (int c = c_lo; c < c_hi; c += W) store(s + c, vf{});
        return 1.0f;
    }
    const float alpha = sexp(m - m_new);  // exp(-inf) = 0 on the first visible tile
    const vf mv = splat(m_new);
    vf sum = vf{};
    for (int c = c_lo; c < c_hi; c += W) {
        const vf e = vexp(load(s + c) - mv);
        store(s + c, e);
        sum += e;
    }
    l = l * alpha + hsum(sum);
    m = m_new;
    return alpha;
}

// 1 / max(||x||, 1e-12), as F.normalize.
inline float inv_norm(const float *x, int D) {
    float s = 0;
    for (int d = 0; d < D; d++) s += x[d] * x[d];
    float n = __builtin_sqrtf(s);
    return 1.0f / (n > 1e-12f ? n : 1e-12f);
}

// Keys transposed together by pack_keys: eight with AVX (one 8 x 8 transpose in registers), else four (SSE).
#ifdef __AVX__
constexpr int KG = 8;
#else
constexpr int KG = 4;
#endif

// Kt[d * TK + c + j] = k[j][d] * f[j] for the KG keys j < KG (row pointers k) and every d < D: K transposed into a
// tile's columns c .. c + KG, KG x KG floats at a time through registers (a transpose one float at a time costs a
// store per float, several percent of an attention call).
template <int TK>
inline void pack_keys(const float *const *k, const float *f, int D, float *Kt, int c) {
    int d = 0;
#ifdef __AVX__
    for (; d + 8 <= D; d += 8) {
        __m256 r[8];
        for (int j = 0; j < 8; j++) r[j] = _mm256_mul_ps(_mm256_loadu_ps(k[j] + d), _mm256_set1_ps(f[j]));
        // rows j = keys, lanes = d .. d + 8; three stages of interleaving turn lanes into rows.
        __m256 t[8], u[8];
        for (int j = 0; j < 8; j += 2) {
            t[j] = _mm256_unpacklo_ps(r[j], r[j + 1]);
            t[j + 1] = _mm256_unpackhi_ps(r[j], r[j + 1]);
        }
        for (int j = 0; j < 8; j += 4) {
            u[j] = _mm256_shuffle_ps(t[j], t[j + 2], 0x44);
            u[j + 1] = _mm256_shuffle_ps(t[j], t[j + 2], 0xEE);
            u[j + 2] = _mm256_shuffle_ps(t[j + 1], t[j + 3], 0x44);
            u[j + 3] = _mm256_shuffle_ps(t[j + 1], t[j + 3], 0xEE);
        }
        for (int i = 0; i < 4; i++) {
            _mm256_storeu_ps(Kt + (d + i) * TK + c, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
            _mm256_storeu_ps(Kt + (d + i + 4) * TK + c, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
        }
    }
#else
    for (; d + 4 <= D; d += 4) {
        __m128 r0 = _mm_mul_ps(_mm_loadu_ps(k[0] + d), _mm_set1_ps(f[0]));
        __m128 r1 = _mm_mul_ps(_mm_loadu_ps(k[1] + d), _mm_set1_ps(f[1]));
        __m128 r2 = _mm_mul_ps(_mm_loadu_ps(k[2] + d), _mm_set1_ps(f[2]));
        __m128 r3 = _mm_mul_ps(_mm_loadu_ps(k[3] + d), _mm_set1_ps(f[3]));
        _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
        _mm_storeu_ps(Kt + (d + 0) * TK + c, r0);
        _mm_storeu_ps(Kt + (d + 1) * TK + c, r1);
        _mm_storeu_ps(Kt + (d + 2) * TK + c, r2);
        _mm_storeu_ps(Kt + (d + 3) * TK + c, r3);
    }
#endif
    for (; d < D; d++)
        for (int j = 0; j < KG; j++) Kt[d * TK + c + j] = k[j][d] * f[j];
}

// Kt's columns [c0, c1): column c holds key_row(c) (a pointer to its D floats), times 1 / ||k|| with qk_norm;
// columns from `real` on are zero (a tile's padding to a register block). KG keys at a time through pack_keys.
template <int TK, typename KeyRow>
inline void pack_key_columns(KeyRow key_row, int c0, int c1, int real, int D, bool qk_norm, float *Kt) {
    const int full = c1 < real ? c1 : real;
    int c = c0;
    for (; c + KG <= full; c += KG) {
        const float *keys[KG];
        float f[KG];
        for (int j = 0; j < KG; j++) {
            keys[j] = key_row(c + j);
            f[j] = qk_norm ? inv_norm(keys[j], D) : 1.0f;
        }
        pack_keys<TK>(keys, f, D, Kt, c);
    }
    for (; c < c1; c++) {
        if (c < real) {
            const float *ks = key_row(c);
            const float f = qk_norm ? inv_norm(ks, D) : 1.0f;
            for (int d = 0; d < D; d++) Kt[d * TK + c] = ks[d] * f;
        } else {
            for (int d = 0; d < D; d++) Kt[d * TK + c] = 0;
        }
    }
}

// S[r][c0 .. c0 + C*W) = Q[r] . Kt[:, c] for the MR rows of a block; Kt is [D][TK] (keys along rows).
template <int C, int MR, int TK>
inline void qk_block(const float *Q, int ldq, const float *Kt, int D, float *S, int c0) {
    vf acc[MR][C];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < C; v++) acc[r][v] = vf{};
    for (int d = 0; d < D; d++) {
        vf k[C];
        for (int v = 0; v < C; v++) k[v] = load(Kt + d * TK + c0 + v * W);
        for (int r = 0; r < MR; r++) {
            vf q = splat(Q[r * ldq + d]);
            for (int v = 0; v < C; v++) acc[r][v] += q * k[v];
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < C; v++) store(S + r * TK + c0 + v * W, acc[r][v]);
}

// O[r][d0 .. d0 + C*W) = alpha[r] * O[r] + sum_{c < kn} P[r][c] * V[c] for the MR rows of a block.
template <int C, int MR, int TK>
inline void pv_block(float *O, int ldo, const float *P, const float *V, int64_t ldv, int kn, const float *alpha,
                     int d0) {
    vf acc[MR][C];
    for (int r = 0; r < MR; r++) {
        vf a = splat(alpha[r]);
        for (int v = 0; v < C; v++) acc[r][v] = load(O + r * ldo + d0 + v * W) * a;
    }
    for (int c = 0; c < kn; c++) {
        vf x[C];
        for (int v = 0; v < C; v++) x[v] = load(V + c * ldv + d0 + v * W);
        for (int r = 0; r < MR; r++) {
            vf p = splat(P[r * TK + c]);
            for (int v = 0; v < C; v++) acc[r][v] += p * x[v];
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < C; v++) store(O + r * ldo + d0 + v * W, acc[r][v]);
}

// O = alpha O + P V over all Dp columns of an MR-row block: whole register block columns, then the rest.
template <int MR, int TK, int C = NV>
inline void pv_rows(float *O, int Dp, const float *P, const float *V, int64_t ldv, int kn, const float *alpha,
                    int d0 = 0) {
    if constexpr (C == NV) {
        for (; d0 + NV * W <= Dp; d0 += NV * W) pv_block<NV, MR, TK>(O, Dp, P, V, ldv, kn, alpha, d0);
    }
    if constexpr (C > 0) {
        const int left = (Dp - d0) / W;
        if (left == C) {
            pv_block<C, MR, TK>(O, Dp, P, V, ldv, kn, alpha, d0);
        } else if (C > 1) {
            pv_rows<MR, TK, (C > 1 ? C - 1 : 1)>(O, Dp, P, V, ldv, kn, alpha, d0);
        }
    }
}

}  // namespace vec
}  // namespace
}  // namespace mmca::cpu

#endif
