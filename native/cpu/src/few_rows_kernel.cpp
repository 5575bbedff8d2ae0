// C = A W^T for a few rows of A (up to kFewRows: the tokens of a decoding step), compiled once per
// instruction set (MMCA_ISA_SUFFIX, MMCA_VEC_WIDTH; see attention_kernel.cpp).
//
// With so few rows a GEMM is a pass over the weights, bound by memory bandwidth, and what matters is
// reading them once, as streams the hardware prefetcher follows. The weights come in the few-rows layout
// (few_rows_kernel.h): column panels of 8, each a contiguous [k, 8] block. A strip of PS panels and MR rows
// keeps its MR x 8 PS outputs in registers while k runs:
//   for k:  acc[r, j] += a[r, k] * W^T[k, j]     (r < MR, j in the strip)
// so every output is a single chain of (fused, where the ISA has FMA) multiply-adds in increasing k,
// whatever strip or thread computes it. Each weight is loaded once per MR rows; the PS panels of a strip
// are PS streams, prefetched kPrefetchRows rows ahead (the L2 prefetcher alone left a third of the
// bandwidth unused: rows=8 at 10.5 GB/s against 13.5 with it, rows=1 14 against 18).
#include <cstdint>
#include <cstring>

#include "few_rows_kernel.h"

#define MMCA_CAT2(a, b) a##b
#define MMCA_CAT(a, b) MMCA_CAT2(a, b)
#define MMCA_ENTRY MMCA_CAT(few_rows_linear_, MMCA_ISA_SUFFIX)

namespace mmca::cpu {
namespace {

constexpr int P = static_cast<int>(kPanelWidth);
// Lanes of the vectors used here: at most a panel's width (the 512-bit path uses 256-bit vectors, with
// twice the registers to hold more of them).
constexpr int V = MMCA_VEC_WIDTH < P ? MMCA_VEC_WIDTH : P;
constexpr int NVP = P / V;  // vectors per panel row
// Accumulator registers a strip may hold: 8 of the 16 vector registers of SSE and AVX2 (the rest hold a
// row of weights and a broadcast), 16 of AVX-512's 32.
constexpr int kAccumulators = MMCA_VEC_WIDTH >= 16 ? 16 : 8;
constexpr int kMaxRows = kAccumulators / NVP < 8 ? kAccumulators / NVP : 8;  // rows per strip
constexpr int64_t kPrefetchRows = 64;  // k rows ahead: 2 KiB of a panel

typedef float vf __attribute__((vector_size(V * sizeof(float))));

inline vf load(const float *p) {
    vf v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float *p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return x - vf{}; }  // a broadcast (x - 0 == x for every x)

// Panels per strip for MR rows: as many as the accumulators allow, a power of two, at most 4.
constexpr int panels_for(int mr) {
    const int fit = kAccumulators / (mr * NVP);
    return fit >= 4 ? 4 : fit >= 2 ? 2 : 1;
}

// One k step of a strip: acc[r][q * NVP + v] += a[r, kk] * panel q's row kk, vector v.
template <int MR, int PS>
inline void step(vf (&acc)[MR][PS * NVP], const float *a, int64_t lda, const float *const (&w)[PS], int64_t kk) {
    vf wv[PS * NVP];
    for (int q = 0; q < PS; q++)
        for (int v = 0; v < NVP; v++) wv[q * NVP + v] = load(w[q] + kk * P + v * V);
    for (int r = 0; r < MR; r++) {
        const vf x = splat(a[r * lda + kk]);
        for (int i = 0; i < PS * NVP; i++) acc[r][i] += x * wv[i];
    }
}

// Rows [0, MR) of a (already offset) times panels [p, p + PS): columns 8p ... of c, those below n.
template <int MR, int PS>
void strip(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c, int64_t ldc, int64_t p) {
    vf acc[MR][PS * NVP];
    for (int r = 0; r < MR; r++)
        for (int i = 0; i < PS * NVP; i++) acc[r][i] = vf{};
    const float *w[PS];
    for (int q = 0; q < PS; q++) w[q] = panels + (p + q) * k * P;
    int64_t kk = 0;
    for (; kk + 2 <= k; kk += 2) {  // a 64-byte line holds two panel rows: one prefetch per line
        for (int q = 0; q < PS; q++) __builtin_prefetch(w[q] + (kk + kPrefetchRows) * P);
        step<MR, PS>(acc, a, lda, w, kk);
        step<MR, PS>(acc, a, lda, w, kk + 1);
    }
    if (kk < k) step<MR, PS>(acc, a, lda, w, kk);
    const int64_t j0 = p * P;
    if (j0 + PS * P <= n) {
        for (int r = 0; r < MR; r++)
            for (int i = 0; i < PS * NVP; i++) store(c + r * ldc + j0 + i * V, acc[r][i]);
        return;
    }
    float out[PS * P];  // the strip reaches past n: the padded columns are not written
    for (int r = 0; r < MR; r++) {
        for (int i = 0; i < PS * NVP; i++) store(out + i * V, acc[r][i]);
        std::memcpy(c + r * ldc + j0, out, static_cast<size_t>(n - j0) * sizeof(float));
    }
}

template <int MR>
void rows_over_panels(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c, int64_t ldc,
                      int64_t p0, int64_t p1) {
    constexpr int PS = panels_for(MR);
    int64_t p = p0;
    for (; p + PS <= p1; p += PS) strip<MR, PS>(a, lda, panels, k, n, c, ldc, p);
    for (; p < p1; p++) strip<MR, 1>(a, lda, panels, k, n, c, ldc, p);
}

}  // namespace

void MMCA_ENTRY(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c, int64_t ldc,
                int64_t rows, int64_t p0, int64_t p1) {
    for (int64_t r0 = 0; r0 < rows; r0 += kMaxRows) {
        const int64_t mr = rows - r0 < kMaxRows ? rows - r0 : kMaxRows;
        const float *ar = a + r0 * lda;
        float *cr = c + r0 * ldc;
        switch (mr) {
            case 1: rows_over_panels<1>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
            case 2: rows_over_panels<2>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
            case 3: rows_over_panels<3>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
            case 4: rows_over_panels<4>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
#if MMCA_VEC_WIDTH >= 8
            case 5: rows_over_panels<5>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
            case 6: rows_over_panels<6>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
            case 7: rows_over_panels<7>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
            case 8: rows_over_panels<8>(ar, lda, panels, k, n, cr, ldc, p0, p1); break;
#endif
            default: break;
        }
    }
}

}  // namespace mmca::cpu
