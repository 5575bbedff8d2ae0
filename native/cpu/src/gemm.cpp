#include "gemm.h"

#include <cblas.h>

#include <atomic>
#include <cmath>
#include <mutex>

#include "isa.h"
#include "thread_pool.h"

namespace mmca::cpu {

void init_blas() {
    static std::once_flag once;
    std::call_once(once, [] { openblas_set_num_threads(1); });
}

namespace {

// The first non-finite element (row-major index over rows x cols) of a block of C, or -1.
int64_t first_non_finite(const float *c, int64_t ldc, int64_t r0, int64_t rn, int64_t c0, int64_t cn, int64_t cols) {
    for (int64_t r = r0; r < r0 + rn; r++) {
        const float *row = c + r * ldc;
        bool finite = true;
        for (int64_t j = c0; j < c0 + cn; j++) finite &= std::fabs(row[j]) <= 3.40282347e38f;
        if (!finite) {
            for (int64_t j = c0; j < c0 + cn; j++)
                if (!(std::fabs(row[j]) <= 3.40282347e38f)) return r * cols + j;
        }
    }
    return -1;
}

// first = the smallest non-negative index any block reported (-1 while none did), whichever thread finds it.
void keep_first(std::atomic<int64_t> &first, int64_t bad) {
    int64_t seen = first.load(std::memory_order_relaxed);
    while (bad >= 0 && (seen < 0 || bad < seen) && !first.compare_exchange_weak(seen, bad)) {
    }
}

}  // namespace

void transpose_into(const float *w, int64_t rows, int64_t cols, float *out) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
}

int64_t linear(const float *a, int64_t lda, const float *w, int64_t ldw, float *c, int64_t ldc, int64_t rows,
               int64_t cols, int64_t k) {
    init_blas();
    // Someone else in the process (e.g. a calibration through the OpenBLAS preset) may have raised
    // OpenBLAS's thread count; our blocks already run in parallel, so keep each sgemm on one thread.
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    if (rows <= 0 || cols <= 0) return -1;
    const double work = static_cast<double>(rows) * cols * k;
    const GemmBlocks blocks = choose_gemm_blocks(rows, cols, k, machine_threads());
    const int64_t row_block = blocks.row_block, col_block = blocks.col_block;
    const int64_t row_blocks = (rows + row_block - 1) / row_block;
    const int64_t col_blocks = (cols + col_block - 1) / col_block;
    std::atomic<int64_t> first{-1};
    parallel_for(
        row_blocks * col_blocks,
        [&](int64_t idx) {
            const int64_t r0 = (idx / col_blocks) * row_block;
            const int64_t c0 = (idx % col_blocks) * col_block;
            const int64_t rn = r0 + row_block < rows ? row_block : rows - r0;
            const int64_t cn = c0 + col_block < cols ? col_block : cols - c0;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(rn), static_cast<blasint>(cn),
                        static_cast<blasint>(k), 1.0f, a + r0 * lda, static_cast<blasint>(lda), w + c0,
                        static_cast<blasint>(ldw), 0.0f, c + r0 * ldc + c0, static_cast<blasint>(ldc));
            keep_first(first, first_non_finite(c, ldc, r0, rn, c0, cn, cols));
        },
        work < 65536.0);
    return first.load();
}

void pack_few_rows_panels(const float *wt, int64_t k, int64_t n, float *panels) {
    const int64_t count = (n + kPanelWidth - 1) / kPanelWidth;
    for (int64_t p = 0; p < count; p++) {
        float *dst = panels + p * k * kPanelWidth;
        const int64_t j0 = p * kPanelWidth;
        const int64_t width = n - j0 < kPanelWidth ? n - j0 : kPanelWidth;
        for (int64_t kk = 0; kk < k; kk++) {
            for (int64_t j = 0; j < width; j++) dst[kk * kPanelWidth + j] = wt[kk * n + j0 + j];
            for (int64_t j = width; j < kPanelWidth; j++) dst[kk * kPanelWidth + j] = 0.0f;
        }
    }
}

int64_t few_rows_linear(const float *a, int64_t lda, const float *panels, float *c, int64_t ldc, int64_t rows,
                        int64_t cols, int64_t k) {
    if (rows <= 0 || cols <= 0) return -1;
    // The panels split into blocks whose outputs stay in L1 (at most 16 KiB), and into at least 8 blocks of
    // 4 or more panels where there are enough, so that every thread streams its share (a k or v projection
    // of 256 columns too). The blocks depend on the shape only; the result does not even depend on them
    // (each output is one chain in k order).
    const FewRowsFn kernel = current_few_rows_kernel();
    const int64_t panel_count = (cols + kPanelWidth - 1) / kPanelWidth;
    const int64_t l1_panels = (4096 / rows) / kPanelWidth;
    int64_t blocks = (panel_count + l1_panels - 1) / l1_panels;
    const int64_t spread = (panel_count + 3) / 4 < 8 ? (panel_count + 3) / 4 : 8;
    if (blocks < spread) blocks = spread;
    const int64_t block = (panel_count + blocks - 1) / blocks;
    blocks = (panel_count + block - 1) / block;
    std::atomic<int64_t> first{-1};
    parallel_for(
        blocks,
        [&](int64_t idx) {
            const int64_t p0 = idx * block;
            const int64_t p1 = p0 + block < panel_count ? p0 + block : panel_count;
            kernel(a, lda, panels, k, cols, c, ldc, rows, p0, p1);
            const int64_t c0 = p0 * kPanelWidth;
            const int64_t cn = (p1 * kPanelWidth < cols ? p1 * kPanelWidth : cols) - c0;
            keep_first(first, first_non_finite(c, ldc, 0, rows, c0, cn, cols));
        },
        static_cast<double>(rows) * cols * k < 65536.0);
    return first.load();
}

}  // namespace mmca::cpu
