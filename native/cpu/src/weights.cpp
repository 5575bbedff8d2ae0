#include "weights.h"

#include "gemm.h"
#include "few_rows_kernel.h"

namespace mmca::cpu {

PackedWeights::PackedWeights(const float *w, int64_t out_, int64_t in_)
    : out(out_), in(in_), transposed(static_cast<size_t>(out_ * in_)) {
    transpose_into(w, out, in, transposed.data());
}

int64_t PackedWeights::bytes() const {
    return static_cast<int64_t>(transposed.size() * sizeof(float)) + panel_bytes_.load(std::memory_order_acquire);
}

const float *PackedWeights::few_rows_panels() const {
    std::call_once(panels_once_, [this] {
        const int64_t count = (out + kPanelWidth - 1) / kPanelWidth;
        panels_.resize(static_cast<size_t>(count * kPanelWidth * in));
        pack_few_rows_panels(transposed.data(), in, out, panels_.data());
        panel_bytes_.store(static_cast<int64_t>(panels_.size() * sizeof(float)), std::memory_order_release);
    });
    return panels_.data();
}

int64_t PackedWeights::apply(const float *x, int64_t ldx, float *y, int64_t ldy, int64_t rows) const {
    if (rows <= kFewRows) return few_rows_linear(x, ldx, few_rows_panels(), y, ldy, rows, out, in);
    return linear(x, ldx, transposed.data(), out, y, ldy, rows, out, in);
}

}  // namespace mmca::cpu
