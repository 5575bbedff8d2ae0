// The split of projections into sgemm calls (gemm_blocks.cpp): it covers the output, keeps every thread
// busy, and prefers the split that packs less (whole rows for the few-token shapes, whole weight panels
// for long sequences), checked on the benchmark shapes where the choice was measured.
#include <cstdint>
#include <cstdio>
#include <string>

#include "gemm_blocks.h"

using mmca::cpu::choose_gemm_blocks;
using mmca::cpu::GemmBlocks;

namespace {

int failures = 0;

void check(bool ok, const std::string &what) {
    if (!ok) {
        std::fprintf(stderr, "FAIL: %s\n", what.c_str());
        failures++;
    }
}

std::string shape(int64_t rows, int64_t cols, int64_t k, int64_t threads) {
    return std::to_string(rows) + "x" + std::to_string(cols) + "x" + std::to_string(k) + " on " +
           std::to_string(threads) + " threads";
}

void check_valid(int64_t rows, int64_t cols, int64_t k, int64_t threads) {
    const GemmBlocks b = choose_gemm_blocks(rows, cols, k, threads);
    const std::string s = shape(rows, cols, k, threads);
    check(b.row_block >= 1 && b.row_block <= rows, s + ": row block within the rows");
    check(b.col_block >= 1 && b.col_block <= cols, s + ": column block within the columns");
    check(b.row_block == rows || b.row_block % 16 == 0, s + ": row block a multiple of 16 or all rows");
    check(b.col_block == cols || b.col_block % 16 == 0, s + ": column block a multiple of 16 or all columns");
    const int64_t blocks = ((rows + b.row_block - 1) / b.row_block) * ((cols + b.col_block - 1) / b.col_block);
    const int64_t possible = ((rows + 15) / 16) * ((cols + 15) / 16);
    // Where a thread's share is worth far more than the packing of a block (here 2^22 multiply-adds; packing costs about a cycle a float, measured on W1), no
    // thread may idle; below that, fewer and larger calls may win.
    if (static_cast<double>(rows) * cols * k / threads >= 4194304.0)
        check(blocks >= (threads < possible ? threads : possible), s + ": at least one block per thread");
    if (threads == 1) check(blocks == 1, s + ": one thread makes one call");
}

}  // namespace

int main() {
    for (int64_t threads : {1, 2, 3, 4, 16, 64})
        for (int64_t rows : {9, 17, 37, 320, 1000, 2304})
            for (int64_t cols : {7, 96, 300, 768, 1536})
                for (int64_t k : {129, 1024}) check_valid(rows, cols, k, threads);

    // W1's projections (batch 32 x 10 tokens): all rows in each call, the columns halved.
    const GemmBlocks w1 = choose_gemm_blocks(320, 768, 512, 2);
    check(w1.row_block == 320 && w1.col_block == 384, "W1 q/k/v projection on 2 threads: 320 x 384 blocks");
    // W2's (batch 4 x 576 tokens): all columns in each call, the rows halved.
    const GemmBlocks w2 = choose_gemm_blocks(2304, 1536, 1024, 2);
    check(w2.row_block == 1152 && w2.col_block == 1536, "W2 q/k/v projection on 2 threads: 1152 x 1536 blocks");

    if (failures == 0) std::printf("test_gemm_blocks: ok\n");
    return failures == 0 ? 0 : 1;
}
