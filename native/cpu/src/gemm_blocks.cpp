#include "gemm_blocks.h"

namespace mmca::cpu {

GemmBlocks choose_gemm_blocks(int64_t rows, int64_t cols, int64_t k, int64_t threads) {
    // Every sgemm call packs its block of A (rb x k) and its block of W (k x cb) before it multiplies,
    // so W, the larger operand of a projection, is packed once per row block and A once per column
    // block. Choose the split whose busiest thread does least: ceil(blocks / threads) blocks, each
    // costing its multiply-adds (16 a cycle) plus its packing (about one float a cycle). Blocks are
    // multiples of 16 rows and columns; at most 64 in each direction are considered.
    GemmBlocks best{rows, cols};
    double best_cost = -1;
    const int64_t max_rb = (rows + 15) / 16 < 64 ? (rows + 15) / 16 : 64;
    const int64_t max_cb = (cols + 15) / 16 < 64 ? (cols + 15) / 16 : 64;
    for (int64_t rbs = 1; rbs <= max_rb; rbs++) {
        const int64_t rb = ((rows + rbs - 1) / rbs + 15) / 16 * 16;
        if (rbs > 1 && (rows + rb - 1) / rb != rbs) continue;  // the same split as fewer blocks
        for (int64_t cbs = 1; cbs <= max_cb; cbs++) {
            const int64_t cb = ((cols + cbs - 1) / cbs + 15) / 16 * 16;
            if (cbs > 1 && (cols + cb - 1) / cb != cbs) continue;
            const int64_t n = rbs * cbs;
            const double per_block = static_cast<double>(rb) * cb * k / 16.0 + static_cast<double>(rb + cb) * k;
            const double cost = static_cast<double>((n + threads - 1) / threads) * per_block;
            if (best_cost < 0 || cost < best_cost) {
                best_cost = cost;
                best = GemmBlocks{rb < rows ? rb : rows, cb < cols ? cb : cols};
            }
        }
    }
    return best;
}

}  // namespace mmca::cpu
