// Projections: C = A * W^T through OpenBLAS sgemm (single-threaded), split into row/column blocks
// that depend only on the shapes and the machine's hardware threads, and run on the pool. Every block
// is one fixed sgemm call, so a result never depends on the configured thread count.
#ifndef MMCA_CPU_GEMM_H
#define MMCA_CPU_GEMM_H

#include <cstdint>

#include "gemm_blocks.h"

namespace mmca::cpu {

/**
 * C[rows, cols] (leading dim ldc) = A[rows, k] (lda) * Wt[k, cols] (ldw), where Wt is a weight
 * matrix stored transposed once at model preparation (nn.Linear's [out, in] becomes [in, out]).
 *
 * Returns -1, or r * cols + j of the first output element that is not finite (products of finite inputs
 * that overflowed float32), found while each block is still in cache.
 */
int64_t linear(const float *a, int64_t lda, const float *wt, int64_t ldw, float *c, int64_t ldc, int64_t rows,
               int64_t cols, int64_t k);

/**
 * The same product for up to kFewRows rows (a decoding step's tokens), from W^T in the few-rows layout
 * (few_rows_kernel.h): one streaming pass over the weights, where a blocked sgemm would pack a panel of W
 * for every call and spend more on that than on the multiply-adds. Same return value as linear().
 */
int64_t few_rows_linear(const float *a, int64_t lda, const float *panels, float *c, int64_t ldc, int64_t rows,
                        int64_t cols, int64_t k);

/** Copies Wt[k, n] into the few-rows layout: ceil(n / kPanelWidth) panels of [k, kPanelWidth], zero-padded. */
void pack_few_rows_panels(const float *wt, int64_t k, int64_t n, float *panels);

/** Transposes W[rows, cols] into a new [cols, rows] buffer (for packing weights). */
void transpose_into(const float *w, int64_t rows, int64_t cols, float *out);

/** Makes OpenBLAS run on the calling thread only (our pool provides the parallelism). */
void init_blas();

}  // namespace mmca::cpu

#endif
