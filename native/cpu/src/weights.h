// Projection weights packed once: nn.Linear's [out, in] stored transposed as [in, out], the layout the
// blocked sgemm of gemm.cpp reads.
#ifndef MMCA_CPU_WEIGHTS_H
#define MMCA_CPU_WEIGHTS_H

#include <cstdint>
#include <vector>

#include "mmca/cpu.h"

namespace mmca::cpu {

struct PackedWeights {
    int64_t out, in;
    std::vector<float> transposed;  // [in, out]

    PackedWeights(const float *w, int64_t out, int64_t in);
    int64_t bytes() const { return static_cast<int64_t>(transposed.size() * sizeof(float)); }
    /** y[rows, out] (row stride ldy) = x[rows, in] (row stride ldx) W^T; returns linear()'s overflow index. */
    int64_t apply(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows) const;
};

}  // namespace mmca::cpu

struct mmca_cpu_weights {
    mmca::cpu::PackedWeights weights;
    uint64_t magic;  // set while alive, cleared on free: catches a freed or foreign pointer early
};

#endif
