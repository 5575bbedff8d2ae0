// Host-only checks of parameter block validation: every bad field is rejected with a message that names
// it, and the head-width list matches the dispatcher's. Runs without a GPU.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "mmca_cuda/api.h"
#include "validate.h"

namespace {

int failures = 0;

mmca_attention_params good() {
    mmca_attention_params p;
    std::memset(&p, 0, sizeof p);
    p.q = reinterpret_cast<const void *>(0x1000);
    p.k = reinterpret_cast<const void *>(0x2000);
    p.v = reinterpret_cast<const void *>(0x3000);
    p.o = reinterpret_cast<void *>(0x4000);
    const int64_t N = 5, M = 7, H = 4, G = 2, D = 64;
    p.q_batch_stride = N * H * D; p.q_row_stride = H * D; p.q_head_stride = D;
    p.k_batch_stride = M * G * D; p.k_row_stride = G * D; p.k_head_stride = D;
    p.v_batch_stride = M * G * D; p.v_row_stride = G * D; p.v_head_stride = D;
    p.o_batch_stride = N * H * D; p.o_row_stride = H * D; p.o_head_stride = D;
    p.batch = 2; p.heads = H; p.kv_heads = G; p.queries = N; p.keys = M; p.dim_head = D;
    p.scale = 0.125f;
    return p;
}

void expect_ok(const char *name, const mmca_attention_params &p, int math) {
    try {
        mmca_cuda::validate(&p, math, "attention");
    } catch (const std::exception &e) {
        std::printf("FAIL %s: unexpected error: %s\n", name, e.what());
        failures++;
    }
}

void expect_error(const char *name, const mmca_attention_params &p, int math, const std::string &fragment) {
    try {
        mmca_cuda::validate(&p, math, "attention");
        std::printf("FAIL %s: accepted, expected an error containing '%s'\n", name, fragment.c_str());
        failures++;
    } catch (const std::invalid_argument &e) {
        if (std::string(e.what()).find(fragment) == std::string::npos) {
            std::printf("FAIL %s: message '%s' lacks '%s'\n", name, e.what(), fragment.c_str());
            failures++;
        }
    }
}

mmca_attention_params with(const std::function<void(mmca_attention_params &)> &change) {
    mmca_attention_params p = good();
    change(p);
    return p;
}

}  // namespace

int main() {
    expect_ok("valid f32 exact", good(), MMCA_MATH_EXACT);
    expect_ok("valid f32 tf32", good(), MMCA_MATH_TENSOR_CORE);
    expect_ok("valid bf16", with([](auto &p) { p.dtype = MMCA_DTYPE_BF16; }), MMCA_MATH_TENSOR_CORE);
    int32_t dims[16];
    const int count = mmca_cuda_dim_heads(dims, 16);
    if (count != 5 || dims[0] != 32 || dims[4] != 128) {
        std::printf("FAIL dim_heads: expected 32 ... 128 (5), got %d\n", count);
        failures++;
    }
    for (int i = 0; i < count; i++) expect_ok("supported dim", with([&](auto &p) { p.dim_head = dims[i]; }), 0);
    for (int d : {16, 48, 72, 100, 256}) {
        expect_error("unsupported dim", with([&](auto &p) { p.dim_head = d; }), 0,
                     "attention.dim_head: unsupported head dim " + std::to_string(d)
                             + " (the CUDA kernels support 32, 64, 80, 96 and 128)");
    }
    expect_error("zero batch", with([](auto &p) { p.batch = 0; }), 0, "attention.batch: expected a positive integer, got 0");
    expect_error("negative keys", with([](auto &p) { p.keys = -3; }), 0, "attention.keys: expected a positive integer, got -3");
    expect_error("kv not divisor", with([](auto &p) { p.kv_heads = 3; }), 0, "attention.kv_heads: expected a divisor of heads (4), got 3");
    expect_error("null q", with([](auto &p) { p.q = nullptr; }), 0, "attention.q: expected a device pointer, got NULL");
    expect_error("null o", with([](auto &p) { p.o = nullptr; }), 0, "attention.o: expected a device pointer");
    expect_error("bad row stride", with([](auto &p) { p.k_row_stride = 0; }), 0, "attention.k_row_stride: expected > 0, got 0");
    expect_error("bad mapping", with([](auto &p) { p.head_mapping = 2; }), 0, "attention.head_mapping: expected 0 (modulo) or 1 (grouped), got 2");
    expect_error("bad dtype", with([](auto &p) { p.dtype = 7; }), 1, "attention.dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got 7");
    expect_error("bf16 exact", with([](auto &p) { p.dtype = MMCA_DTYPE_BF16; }), 0, "attention.math: exact fp32 math needs dtype f32");
    expect_error("bad math", good(), 5, "attention.math: expected 0 (exact fp32) or 1 (tensor cores), got 5");
    expect_error("zero scale", with([](auto &p) { p.scale = 0; }), 0, "attention.scale: expected a finite positive number");
    expect_error("nan scale", with([](auto &p) { p.scale = NAN; }), 0, "attention.scale: expected a finite positive number");
    expect_error("reserved", with([](auto &p) { p.reserved = 1; }), 0, "attention.reserved: expected 0, got 1");
    expect_error("short key mask stride", with([](auto &p) {
                     p.key_mask = reinterpret_cast<const uint8_t *>(0x5000);
                     p.key_mask_batch_stride = 3;
                 }), 0, "attention.key_mask_batch_stride: expected at least keys (7), got 3");
    // Decoding fields: device pointers the kernels read; only the positions' batch stride is checked.
    expect_ok("key lengths and query positions", with([](auto &p) {
                  p.key_lengths = reinterpret_cast<const int32_t *>(0x6000);
                  p.query_positions = reinterpret_cast<const int32_t *>(0x7000);
                  p.query_positions_batch_stride = 5;
                  p.causal = 1;
              }), MMCA_MATH_EXACT);
    expect_error("short query positions stride", with([](auto &p) {
                     p.query_positions = reinterpret_cast<const int32_t *>(0x7000);
                     p.query_positions_batch_stride = 2;
                 }), 0, "attention.query_positions_batch_stride: expected at least queries (5), got 2");
    expect_ok("query positions of one batch element need no stride", with([](auto &p) {
                  p.batch = 1;
                  p.query_positions = reinterpret_cast<const int32_t *>(0x7000);
                  p.query_positions_batch_stride = 0;
              }), 0);
    try {
        mmca_cuda::validate(nullptr, 0, "attention");
        std::printf("FAIL null block accepted\n");
        failures++;
    } catch (const std::invalid_argument &e) {
        if (std::string(e.what()).find("attention: expected a parameter block, got NULL") == std::string::npos) {
            std::printf("FAIL null block message: %s\n", e.what());
            failures++;
        }
    }
    {  // text pair: cross must share queries with self, may have its own key count
        mmca_text_params t;
        t.self = good();
        t.cross = with([](auto &p) { p.queries = 6; });
        try {
            mmca_cuda::validate_text(&t, 0);
            std::printf("FAIL text pair with different queries accepted\n");
            failures++;
        } catch (const std::invalid_argument &e) {
            if (std::string(e.what()).find("cross.queries: expected the same value as self (5)") == std::string::npos) {
                std::printf("FAIL text pair message: %s\n", e.what());
                failures++;
            }
        }
        t.cross = with([](auto &p) { p.keys = 11; });
        try {
            mmca_cuda::validate_text(&t, 0);
        } catch (const std::exception &e) {
            std::printf("FAIL text pair with other keys rejected: %s\n", e.what());
            failures++;
        }
    }
    if (failures == 0) std::printf("validate_test: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
