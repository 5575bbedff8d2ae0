// Projection weights packed once: nn.Linear's [out, in] stored transposed as [in, out], the layout the
// blocked sgemm of gemm.cpp reads, and, from the first call with few rows, a second copy in the few-rows
// layout (few_rows_kernel.h) that a decoding step streams.
#ifndef MMCA_CPU_WEIGHTS_H
#define MMCA_CPU_WEIGHTS_H

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "mmca/cpu.h"

namespace mmca::cpu {

struct PackedWeights {
    int64_t out, in;
    std::vector<float> transposed;  // [in, out]

    PackedWeights(const float *w, int64_t out, int64_t in);
    /** Bytes held: the transposed copy, plus the few-rows copy once a call with few rows has made it. */
    int64_t bytes() const;
    /** y[rows, out] (row stride ldy) = x[rows, in] (row stride ldx) W^T; returns linear()'s overflow index. */
    int64_t apply(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows) const;

private:
    // Built on first use (std::call_once: calls may come from many threads), kept until the weights go.
    // Only models that run few rows (decoding) pay for it.
    mutable std::once_flag panels_once_;
    mutable std::vector<float> panels_;
    mutable std::atomic<int64_t> panel_bytes_{0};

    const float *few_rows_panels() const;
};

}  // namespace mmca::cpu

struct mmca_cpu_weights {
    mmca::cpu::PackedWeights weights;
    uint64_t magic;  // set while alive, cleared on free: catches a freed or foreign pointer early
};

#endif
