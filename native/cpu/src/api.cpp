// The C ABI of native/include/mmca/cpu.h: validation first, then the internal drivers.
#include <cblas.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attention.h"
#include "errors.h"
#include "gemm.h"
#include "isa.h"
#include "model.h"
#include "mmca/cpu.h"
#include "thread_pool.h"
#include "validate.h"

using namespace mmca::cpu;

namespace {

constexpr uint64_t kModelMagic = 0x6d6d63612d637075ULL;  // "mmca-cpu"

const Model &checked(const mmca_cpu_model *m) {
    if (m == nullptr) fail("model: expected a live mmca_cpu_model, got NULL");
    if (m->magic != kModelMagic) fail("model: expected a live mmca_cpu_model, got a freed or foreign pointer");
    return m->model;
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

void mmca_cpu_attention(const mmca_attention_params *params) {
    validate_attention(params, "mmca_attention_params");
    init_blas();
    run_attention(*params);
}

void mmca_cpu_text_attention(const mmca_text_params *params) {
    validate_text(params);
    init_blas();
    run_text_attention(*params);
}

mmca_cpu_model *mmca_cpu_model_create(const mmca_cpu_model_desc *desc) {
    validate_model_desc(desc);
    init_blas();
    return new mmca_cpu_model{Model(*desc), kModelMagic};
}

void mmca_cpu_model_forward(const mmca_cpu_model *model, const float *visual, const float *text,
                            const uint8_t *visual_mask, const uint8_t *text_mask, float *visual_out,
                            float *text_out, int32_t batch, int32_t visual_tokens, int32_t text_tokens) {
    const Model &m = checked(model);
    positive("batch", batch);
    positive("visual_tokens", visual_tokens);
    positive("text_tokens", text_tokens);
    non_null("visual", visual);
    non_null("text", text);
    non_null("visual_out", visual_out);
    non_null("text_out", text_out);
    if (m.seed && visual_tokens != text_tokens) {
        fail("text_tokens: composition SEED expects as many text tokens as visual tokens ("
             + std::to_string(visual_tokens) + "), got " + std::to_string(text_tokens));
    }
    m.forward(visual, text, visual_mask, text_mask, visual_out, text_out, batch, visual_tokens, text_tokens);
}

int64_t mmca_cpu_model_bytes(const mmca_cpu_model *model) { return checked(model).bytes(); }

void mmca_cpu_model_free(mmca_cpu_model *model) {
    if (model == nullptr) return;
    checked(model);
    model->magic = 0;
    delete model;
}

void mmca_cpu_set_threads(int32_t n) { set_pool_threads(n); }

int32_t mmca_cpu_threads(void) { return pool_threads(); }

const char *mmca_cpu_isa(void) { return isa_name(current_isa()); }

void mmca_cpu_set_isa(const char *name) {
    if (name == nullptr) fail("isa: expected portable, avx2 or avx512, got NULL");
    select_isa(name);
}

const char *mmca_cpu_features(void) { return cpu_features().c_str(); }

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

void mmca_cpu_linear(const float *a, const float *w, float *c, int64_t rows, int64_t cols, int64_t k) {
    non_null("a", a);
    non_null("w", w);
    non_null("c", c);
    positive("rows", rows);
    positive("cols", cols);
    positive("k", k);
    linear(a, k, w, cols, c, cols, rows, cols, k);
}

int64_t mmca_cpu_malloc_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return static_cast<int64_t>(info.uordblks + info.hblkhd);
}

}  // extern "C"
#pragma GCC visibility pop
