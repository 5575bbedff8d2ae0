// The projection of a few rows (a decoding step's tokens), compiled once per instruction set like the
// attention tile (few_rows_kernel.cpp); isa.cpp picks one at load time.
#ifndef MMCA_CPU_FEW_ROWS_KERNEL_H
#define MMCA_CPU_FEW_ROWS_KERNEL_H

#include <cstdint>

namespace mmca::cpu {

/** Most rows the few-rows kernel takes at once; linear() uses it for up to this many rows. */
constexpr int64_t kFewRows = 8;

/**
 * c[r, c0:c1) = sum_k a[r, k] * wt[k, c0:c1) for r < rows (rows <= kFewRows): a GEMM whose A is a few rows,
 * so that its cost is reading wt once. Each output is one chain of multiply-adds in k order, whatever the
 * column range, so splitting the columns among threads does not change a bit of the result.
 */
using FewRowsFn = void (*)(const float *a, int64_t lda, const float *wt, int64_t ldw, float *c, int64_t ldc,
                           int64_t rows, int64_t c0, int64_t c1, int64_t k);

void few_rows_linear_portable(const float *a, int64_t lda, const float *wt, int64_t ldw, float *c, int64_t ldc,
                              int64_t rows, int64_t c0, int64_t c1, int64_t k);
void few_rows_linear_avx2(const float *a, int64_t lda, const float *wt, int64_t ldw, float *c, int64_t ldc,
                          int64_t rows, int64_t c0, int64_t c1, int64_t k);
void few_rows_linear_avx512(const float *a, int64_t lda, const float *wt, int64_t ldw, float *c, int64_t ldc,
                            int64_t rows, int64_t c0, int64_t c1, int64_t k);

}  // namespace mmca::cpu

#endif
