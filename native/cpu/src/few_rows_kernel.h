// The projection of a few rows (a decoding step's tokens), compiled once per instruction set like the
// attention tile (few_rows_kernel.cpp); isa.cpp picks one at load time.
#ifndef MMCA_CPU_FEW_ROWS_KERNEL_H
#define MMCA_CPU_FEW_ROWS_KERNEL_H

#include <cstdint>

namespace mmca::cpu {

/** Most rows the few-rows kernel takes at once; PackedWeights::apply uses it for up to this many rows. */
constexpr int64_t kFewRows = 8;

/**
 * Columns per panel of the few-rows layout: W^T [k, n] cut into column panels of this width, each stored
 * as its own contiguous [k, kPanelWidth] block (the last one zero-padded), so that a pass over one panel
 * reads one stream of memory. Fixed for every instruction set, since the path can be switched at run time.
 */
constexpr int64_t kPanelWidth = 8;

/**
 * c[r, j] = sum_k a[r, k] * W^T[k, j] for r < rows (rows <= kFewRows) and the columns j of panels
 * [p0, p1) below n (the weights' column count), where panels holds W^T in the few-rows layout. Each output
 * is one chain of multiply-adds in k order, whatever the panel range, so splitting the panels among threads
 * does not change a bit of the result.
 */
using FewRowsFn = void (*)(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c,
                           int64_t ldc, int64_t rows, int64_t p0, int64_t p1);

void few_rows_linear_portable(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c,
                              int64_t ldc, int64_t rows, int64_t p0, int64_t p1);
void few_rows_linear_avx2(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c,
                          int64_t ldc, int64_t rows, int64_t p0, int64_t p1);
void few_rows_linear_avx512(const float *a, int64_t lda, const float *panels, int64_t k, int64_t n, float *c,
                            int64_t ldc, int64_t rows, int64_t p0, int64_t p1);

}  // namespace mmca::cpu

#endif
