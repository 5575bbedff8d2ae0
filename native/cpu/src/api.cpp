// The C ABI of native/include/mmca/cpu.h: validation first, then the internal drivers.
#include <cblas.h>
#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "attention.h"
#include "calibration.h"
#include "errors.h"
#include "gemm.h"
#include "interleaved.h"
#include "isa.h"
#include "mmca/cpu.h"
#include "thread_pool.h"
#include "validate.h"
#include "weights.h"

using namespace mmca::cpu;

namespace {

constexpr uint64_t kWeightsMagic = 0x6d6d63612d777473ULL;  // "mmca-wts"

const PackedWeights &checked(const mmca_cpu_weights *w) {
    if (w == nullptr) fail("weights: expected live mmca_cpu_weights, got NULL");
    if (w->magic != kWeightsMagic) fail("weights: expected live mmca_cpu_weights, got a freed or foreign pointer");
    return w->weights;
}

void positive(const char *name, int64_t v) {
    if (v <= 0) fail(std::string(name) + ": expected a positive integer, got " + std::to_string(v));
}

void non_null(const char *name, const void *p) {
    if (p == nullptr) fail(std::string(name) + ": expected a non-null pointer, got NULL");
}

}  // namespace

#pragma GCC visibility push(default)
extern "C" {

int64_t mmca_cpu_attention(const mmca_attention_params *params) {
    validate_attention(params, "mmca_attention_params");
    init_blas();
    return run_attention(*params);
}

int64_t mmca_cpu_text_attention(const mmca_text_params *params) {
    validate_text(params);
    init_blas();
    return run_text_attention(*params);
}

int64_t mmca_cpu_interleaved_attention(const mmca_interleaved_params *params) {
    validate_interleaved(params);
    init_blas();
    return run_interleaved_attention(*params);
}

mmca_cpu_weights *mmca_cpu_weights_create(const float *w, int64_t out, int64_t in) {
    non_null("w", w);
    positive("out", out);
    positive("in", in);
    init_blas();
    return new mmca_cpu_weights{PackedWeights(w, out, in), kWeightsMagic};
}

int64_t mmca_cpu_weights_bytes(const mmca_cpu_weights *weights) { return checked(weights).bytes(); }

void mmca_cpu_weights_free(mmca_cpu_weights *weights) {
    if (weights == nullptr) return;
    checked(weights);
    weights->magic = 0;
    delete weights;
}

int64_t mmca_cpu_linear(const mmca_cpu_weights *weights, const float *x, int64_t ldx, float *y, int64_t ldy,
                        int64_t rows) {
    const PackedWeights &w = checked(weights);
    non_null("x", x);
    non_null("y", y);
    positive("rows", rows);
    if (ldx < w.in) fail("ldx: expected at least in=" + std::to_string(w.in) + ", got " + std::to_string(ldx));
    if (ldy < w.out) fail("ldy: expected at least out=" + std::to_string(w.out) + ", got " + std::to_string(ldy));
    return w.apply(x, ldx, y, ldy, rows);
}

int64_t mmca_cpu_add(float *out, const float *a, const float *b, int64_t n) {
    non_null("out", out);
    non_null("a", a);
    non_null("b", b);
    positive("n", n);
    std::atomic<int64_t> first{-1};
    parallel_for(
        (n + 65535) / 65536,
        [&](int64_t block) {
            const int64_t end = std::min(n, (block + 1) * 65536);
            bool finite = true;
            for (int64_t i = block * 65536; i < end; i++) {
                out[i] = a[i] + b[i];
                finite &= std::fabs(out[i]) <= 3.40282347e38f;
            }
            if (finite) return;
            for (int64_t i = block * 65536; i < end; i++) {
                if (!(std::fabs(out[i]) <= 3.40282347e38f)) {
                    int64_t seen = first.load();
                    while ((seen < 0 || i < seen) && !first.compare_exchange_weak(seen, i)) {
                    }
                    return;
                }
            }
        },
        n < 262144);
    return first.load();
}

void mmca_cpu_scatter_rows(const float *src, int64_t src_ld, float *dst, int64_t dst_ld, int64_t width,
                           const int32_t *rows, int64_t count) {
    non_null("src", src);
    non_null("dst", dst);
    non_null("rows", rows);
    positive("width", width);
    positive("count", count);
    if (src_ld < width) fail("src_ld: expected at least width=" + std::to_string(width) + ", got " + std::to_string(src_ld));
    if (dst_ld < width) fail("dst_ld: expected at least width=" + std::to_string(width) + ", got " + std::to_string(dst_ld));
    for (int64_t r = 0; r < count; r++) {
        if (rows[r] >= 0) std::memcpy(dst + rows[r] * dst_ld, src + r * src_ld, static_cast<size_t>(width) * sizeof(float));
    }
}

int32_t mmca_cpu_params_size(void) { return static_cast<int32_t>(sizeof(mmca_attention_params)); }

int32_t mmca_cpu_format_params(const mmca_attention_params *params, char *buf, int32_t size) {
    non_null("params", params);
    non_null("buf", buf);
    positive("size", size);
    return mmca_attention_params_format(params, buf, static_cast<size_t>(size));
}

int32_t mmca_cpu_interleaved_params_size(void) { return static_cast<int32_t>(sizeof(mmca_interleaved_params)); }

int32_t mmca_cpu_format_interleaved_params(const mmca_interleaved_params *params, char *buf, int32_t size) {
    non_null("params", params);
    non_null("buf", buf);
    positive("size", size);
    return mmca_interleaved_params_format(params, buf, static_cast<size_t>(size));
}

void mmca_cpu_set_threads(int32_t n) { set_pool_threads(n); }

int32_t mmca_cpu_threads(void) { return pool_threads(); }

const char *mmca_cpu_isa(void) { return isa_name(current_isa()); }

void mmca_cpu_set_isa(const char *name) {
    if (name == nullptr) fail("isa: expected portable, avx2 or avx512, got NULL");
    select_isa(name);
}

const char *mmca_cpu_features(void) { return cpu_features().c_str(); }

const char *mmca_cpu_blas_core(void) { return openblas_get_corename(); }

double mmca_cpu_sgemm_gflops(int32_t n, int32_t repeats) {
    positive("n", n);
    positive("repeats", repeats);
    init_blas();
    const size_t size = static_cast<size_t>(n) * n;
    std::vector<float> a(size), b(size), c(size);
    for (size_t i = 0; i < size; i++) {
        a[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
        b[i] = static_cast<float>((i * 104729) % 1000) / 1000.0f - 0.5f;
    }
    const double flops = 2.0 * n * static_cast<double>(n) * n;
    auto best_of = [&](const std::function<void()> &run) {
        run();  // warm-up
        double best = 0;
        for (int r = 0; r < repeats; r++) {
            auto t0 = std::chrono::steady_clock::now();
            run();
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            best = std::max(best, flops / s / 1e9);
        }
        return best;
    };
    // The ceiling is the better of OpenBLAS threading one call itself (as any other OpenBLAS user would
    // run it) and the blocked path the projections take (one OpenBLAS thread per block on our pool).
    const int threads = pool_threads();
    const double own = best_of([&] {
        openblas_set_num_threads(threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f,
                    c.data(), n);
    });
    openblas_set_num_threads(1);
    const double blocked = best_of([&] { linear(a.data(), n, b.data(), n, c.data(), n, n, n, n); });
    return std::max(own, blocked);
}

double mmca_cpu_fma_peak_gflops(double seconds) {
    if (!(seconds > 0 && seconds <= 60)) fail("seconds: expected a duration in (0, 60], got " + std::to_string(seconds));
    return fma_peak_gflops(seconds);
}

double mmca_cpu_read_bandwidth_gbs(int64_t bytes, int32_t repeats) {
    if (bytes < (1 << 20) || bytes > (int64_t{1} << 34)) {
        fail("bytes: expected a buffer of 1 MiB to 16 GiB, got " + std::to_string(bytes));
    }
    positive("repeats", repeats);
    return read_bandwidth_gbs(bytes, repeats);
}

int64_t mmca_cpu_malloc_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

}  // extern "C"
#pragma GCC visibility pop
