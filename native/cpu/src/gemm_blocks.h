// How a projection is split into sgemm calls that run on the pool (gemm.cpp). A pure function of the
// shape and a thread count, kept apart so that the unit tests can check it without the library.
#ifndef MMCA_CPU_GEMM_BLOCKS_H
#define MMCA_CPU_GEMM_BLOCKS_H

#include <cstdint>

namespace mmca::cpu {

/** A split of a projection into blocks of row_block x col_block outputs (the last ones smaller). */
struct GemmBlocks {
    int64_t row_block;
    int64_t col_block;
};

/**
 * The split of C[rows, cols] = A[rows, k] * Wt[k, cols] that keeps the busiest of `threads` threads least
 * busy, counting the packing every sgemm call does (gemm.cpp). Depends on its arguments only.
 */
GemmBlocks choose_gemm_blocks(int64_t rows, int64_t cols, int64_t k, int64_t threads);

}  // namespace mmca::cpu

#endif
