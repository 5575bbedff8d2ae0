// The projection and addition operations against naive double-precision loops, on odd shapes, with row
// strides wider than the rows, on every path the projection takes (small-row loop and blocked sgemm).
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "reference.h"

using namespace mmca::test;

namespace {

void check_linear(std::mt19937 &rng, int64_t rows, int64_t out, int64_t in, int64_t pad) {
    const int64_t ldx = in + pad, ldy = out + pad;
    std::vector<float> w = normal(rng, static_cast<size_t>(out * in));
    std::vector<float> x = normal(rng, static_cast<size_t>(rows * ldx));
    std::vector<float> y(static_cast<size_t>(rows * ldy), NAN);
    mmca_cpu_weights *packed = mmca_cpu_weights_create(w.data(), out, in);
    const int64_t transposed_bytes = out * in * static_cast<int64_t>(sizeof(float));
    check(mmca_cpu_weights_bytes(packed) == transposed_bytes, "packed bytes before any call");
    mmca_cpu_linear(packed, x.data(), ldx, y.data(), ldy, rows);
    // a call with few rows adds the few-rows copy: panels of 8 columns, the last one padded
    const int64_t panel_bytes = rows <= 8 ? (out + 7) / 8 * 8 * in * static_cast<int64_t>(sizeof(float)) : 0;
    check(mmca_cpu_weights_bytes(packed) == transposed_bytes + panel_bytes, "packed bytes after a call");
    if (rows <= 8) {
        // a second call reuses the copy, and gives the same bits
        std::vector<float> again(y.size(), NAN);
        mmca_cpu_linear(packed, x.data(), ldx, again.data(), ldy, rows);
        bool same = true;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < out; o++) same &= again[r * ldy + o] == y[r * ldy + o];
        check(same && mmca_cpu_weights_bytes(packed) == transposed_bytes + panel_bytes, "few rows: second call");
    }
    mmca_cpu_weights_free(packed);
    std::vector<double> got, want;
    bool padding_untouched = true;
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t o = 0; o < out; o++) {
            double s = 0;
            for (int64_t i = 0; i < in; i++) s += static_cast<double>(x[r * ldx + i]) * w[o * in + i];
            want.push_back(s);
            got.push_back(y[r * ldy + o]);
        }
        for (int64_t o = out; o < ldy; o++) padding_untouched &= std::isnan(y[r * ldy + o]);
    }
    const double err = relative_error(got, want);
    char what[160];
    std::snprintf(what, sizeof what, "linear rows=%lld out=%lld in=%lld pad=%lld: rel err %.2e",
                  (long long)rows, (long long)out, (long long)in, (long long)pad, err);
    check(err < 1e-5, what);
    check(padding_untouched, std::string(what) + ": columns past out untouched");
}

// The few-rows path computes each output as one chain of multiply-adds in k order: one row alone gives the
// same bits as that row among others, whatever strip of rows and panels held it.
void check_rows_independent(std::mt19937 &rng, int64_t out, int64_t in) {
    std::vector<float> w = normal(rng, static_cast<size_t>(out * in));
    std::vector<float> x = normal(rng, static_cast<size_t>(8 * in));
    mmca_cpu_weights *packed = mmca_cpu_weights_create(w.data(), out, in);
    std::vector<float> all(static_cast<size_t>(8 * out)), one(static_cast<size_t>(out));
    mmca_cpu_linear(packed, x.data(), in, all.data(), out, 8);
    bool same = true;
    for (int64_t r = 0; r < 8; r++) {
        mmca_cpu_linear(packed, x.data() + r * in, in, one.data(), out, 1);
        for (int64_t o = 0; o < out; o++) same &= one[o] == all[r * out + o];
    }
    mmca_cpu_weights_free(packed);
    check(same, "few rows out=" + std::to_string(out) + ": a row alone gives the bits it gets among 8");
}

}  // namespace

int main() {
    std::mt19937 rng(42);
    for (const std::string &isa : runnable_isas()) {
        mmca_cpu_set_isa(isa.c_str());
        for (int64_t rows : {1, 2, 3, 4, 5, 6, 7, 8, 9, 37, 300}) {
            for (int64_t pad : {0, 5}) {
                check_linear(rng, rows, 7, 13, pad);
                check_linear(rng, rows, 96, 64, pad);
                check_linear(rng, rows, 300, 129, pad);
            }
        }
        // the few-rows path over many column blocks, strips of every width and a partial last panel
        for (int64_t rows : {1, 2, 5, 8}) check_linear(rng, rows, 2563, 1031, 3);
        check_rows_independent(rng, 1029, 67);
        std::printf("%-8s linear checks done\n", isa.c_str());
    }
    // a+b, aliasing allowed, over more than one block
    std::vector<float> a = normal(rng, 300000), b = normal(rng, 300000), out(300000);
    mmca_cpu_add(out.data(), a.data(), b.data(), 300000);
    bool exact = true;
    for (size_t i = 0; i < a.size(); i++) exact &= out[i] == a[i] + b[i];
    check(exact, "add: every element is the float sum");
    mmca_cpu_add(a.data(), a.data(), b.data(), 300000);
    check(a == out, "add into its own input gives the same");
    // finite inputs whose products overflow float32: the first non-finite output is reported, not hidden
    {
        std::vector<float> w(4 * 3, 1.0f), x(2 * 3, 1e20f), y(2 * 4);
        x[0] = x[1] = x[2] = 1.0f;  // row 0 stays finite, row 1 overflows (3 * 1e20 * 1 fits; make it 1e38)
        for (int i = 3; i < 6; i++) x[i] = 2e38f;
        mmca_cpu_weights *packed = mmca_cpu_weights_create(w.data(), 4, 3);
        check(mmca_cpu_linear(packed, x.data(), 3, y.data(), 4, 2) == 4, "linear reports the first overflowed output");
        x[3] = x[4] = x[5] = 1.0f;
        check(mmca_cpu_linear(packed, x.data(), 3, y.data(), 4, 2) == -1, "finite results report nothing");
        mmca_cpu_weights_free(packed);
        std::vector<float> p(5, 3e38f), q(5, 3e38f), r(5);
        p[0] = q[0] = 1.0f;
        check(mmca_cpu_add(r.data(), p.data(), q.data(), 5) == 1, "add reports the first overflowed sum");
    }
    std::printf("%s (%d failures)\n", failures() ? "FAILED" : "passed", failures());
    return failures() != 0;
}
