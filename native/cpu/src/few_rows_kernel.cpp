// C = A W^T for a few rows of A (up to kFewRows: the tokens of a decoding step), compiled once per
// instruction set (MMCA_ISA_SUFFIX, MMCA_VEC_WIDTH; see attention_kernel.cpp).
//
// With so few rows a GEMM is a pass over the weights, and what matters is reading them once, in long
// runs: a blocked sgemm packs a panel of W for every call, which costs more than the multiply-adds. Here
// the output block c[rows, c0:c1) stays in L1 while the weights stream by, KG rows of wt at a time:
//   for each group of KG consecutive k:  c[r, j] += a[r, k] wt[k, j] + ... (KG terms, in k order)
// Every output is a single chain of (fused, where the ISA has FMA) multiply-adds in increasing k, the
// same in the vector body and the scalar column tail, so the column range a thread takes cannot change
// the result.
#include <cstdint>
#include <cstring>

#include "few_rows_kernel.h"

#define MMCA_CAT2(a, b) a##b
#define MMCA_CAT(a, b) MMCA_CAT2(a, b)
#define MMCA_ENTRY MMCA_CAT(few_rows_linear_, MMCA_ISA_SUFFIX)

namespace mmca::cpu {
namespace {

constexpr int W = MMCA_VEC_WIDTH;
constexpr int KG = 8;  // weight rows per pass over the output block: 1 load and 1 store of c per KG FMAs

typedef float vf __attribute__((vector_size(W * sizeof(float))));

inline vf load(const float *p) {
    vf v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
inline void store(float *p, vf v) { std::memcpy(p, &v, sizeof v); }
inline vf splat(float x) { return x - vf{}; }  // a broadcast (x - 0 == x for every x)

// One output row over KG weight rows w[0..KG) (each already offset to c0), n columns.
inline void row_update(float *__restrict cr, const float *ar, const float *const *w, int64_t n) {
    vf x[KG];
    for (int t = 0; t < KG; t++) x[t] = splat(ar[t]);
    const int64_t nv = n / W * W;
    for (int64_t j = 0; j < nv; j += W) {
        vf y = load(cr + j);
        for (int t = 0; t < KG; t++) y += x[t] * load(w[t] + j);
        store(cr + j, y);
    }
    for (int64_t j = nv; j < n; j++) {
        float y = cr[j];
        for (int t = 0; t < KG; t++) y += ar[t] * w[t][j];
        cr[j] = y;
    }
}

// The last k % KG weight rows, one at a time.
inline void row_update_one(float *__restrict cr, float a, const float *w, int64_t n) {
    const vf x = splat(a);
    const int64_t nv = n / W * W;
    for (int64_t j = 0; j < nv; j += W) store(cr + j, load(cr + j) + x * load(w + j));
    for (int64_t j = nv; j < n; j++) cr[j] += a * w[j];
}

}  // namespace

void MMCA_ENTRY(const float *a, int64_t lda, const float *wt, int64_t ldw, float *c, int64_t ldc, int64_t rows,
                int64_t c0, int64_t c1, int64_t k) {
    const int64_t n = c1 - c0;
    if (n <= 0) return;
    for (int64_t r = 0; r < rows; r++) std::memset(c + r * ldc + c0, 0, static_cast<size_t>(n) * sizeof(float));
    int64_t kk = 0;
    for (; kk + KG <= k; kk += KG) {
        const float *w[KG];
        for (int t = 0; t < KG; t++) w[t] = wt + (kk + t) * ldw + c0;
        for (int64_t r = 0; r < rows; r++) row_update(c + r * ldc + c0, a + r * lda + kk, w, n);
    }
    for (; kk < k; kk++) {
        for (int64_t r = 0; r < rows; r++) row_update_one(c + r * ldc + c0, a[r * lda + kk], wt + kk * ldw + c0, n);
    }
}

}  // namespace mmca::cpu
