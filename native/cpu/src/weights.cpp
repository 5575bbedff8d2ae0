#include "weights.h"

#include "gemm.h"

namespace mmca::cpu {

PackedWeights::PackedWeights(const float *w, int64_t out_, int64_t in_)
    : out(out_), in(in_), transposed(static_cast<size_t>(out_ * in_)) {
    transpose_into(w, out, in, transposed.data());
}

int64_t PackedWeights::apply(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows) const {
    return linear(x, ldx, transposed.data(), out, y, ldy, rows, out, in);
}

}  // namespace mmca::cpu
