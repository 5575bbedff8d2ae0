// Host-only checks of descriptor unpacking and validation: every bad field is rejected with a message
// that names it. Runs without a GPU.
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

std::vector<int64_t> good_desc() {
    std::vector<int64_t> d(MMCA_DESC_LEN, 0);
    d[MMCA_DESC_Q] = 0x1000; d[MMCA_DESC_K] = 0x2000; d[MMCA_DESC_V] = 0x3000; d[MMCA_DESC_O] = 0x4000;
    const int64_t B = 2, N = 5, M = 7, H = 4, G = 2, D = 64;
    d[MMCA_DESC_Q_BATCH_STRIDE] = N * H * D; d[MMCA_DESC_Q_ROW_STRIDE] = H * D; d[MMCA_DESC_Q_HEAD_STRIDE] = D;
    d[MMCA_DESC_K_BATCH_STRIDE] = M * G * D; d[MMCA_DESC_K_ROW_STRIDE] = G * D; d[MMCA_DESC_K_HEAD_STRIDE] = D;
    d[MMCA_DESC_V_BATCH_STRIDE] = M * G * D; d[MMCA_DESC_V_ROW_STRIDE] = G * D; d[MMCA_DESC_V_HEAD_STRIDE] = D;
    d[MMCA_DESC_O_BATCH_STRIDE] = N * H * D; d[MMCA_DESC_O_ROW_STRIDE] = H * D; d[MMCA_DESC_O_HEAD_STRIDE] = D;
    d[MMCA_DESC_BATCH] = B; d[MMCA_DESC_HEADS] = H; d[MMCA_DESC_KV_HEADS] = G;
    d[MMCA_DESC_QUERIES] = N; d[MMCA_DESC_KEYS] = M; d[MMCA_DESC_DIM_HEAD] = D;
    float scale = 0.125f;
    uint32_t bits;
    std::memcpy(&bits, &scale, 4);
    d[MMCA_DESC_SCALE_BITS] = bits;
    return d;
}

void check_one(const mmca_attention_params &p, int math) { mmca_cuda::validate(p, math, "attention"); }

void expect_ok(const char *name, const std::vector<int64_t> &d, int math) {
    try {
        check_one(mmca_cuda::unpack(d.data(), (int)d.size(), "attention"), math);
    } catch (const std::exception &e) {
        std::printf("FAIL %s: unexpected error: %s\n", name, e.what());
        failures++;
    }
}

void expect_error(const char *name, const std::vector<int64_t> &d, int math, const std::string &fragment) {
    try {
        check_one(mmca_cuda::unpack(d.data(), (int)d.size(), "attention"), math);
        std::printf("FAIL %s: accepted, expected an error containing '%s'\n", name, fragment.c_str());
        failures++;
    } catch (const std::invalid_argument &e) {
        if (std::string(e.what()).find(fragment) == std::string::npos) {
            std::printf("FAIL %s: message '%s' lacks '%s'\n", name, e.what(), fragment.c_str());
            failures++;
        }
    }
}

std::vector<int64_t> with(int slot, int64_t value) {
    std::vector<int64_t> d = good_desc();
    d[slot] = value;
    return d;
}

}  // namespace

int main() {
    expect_ok("valid f32 exact", good_desc(), MMCA_MATH_EXACT);
    expect_ok("valid f32 tf32", good_desc(), MMCA_MATH_TENSOR_CORE);
    expect_ok("valid bf16", with(MMCA_DESC_DTYPE, MMCA_DTYPE_BF16), MMCA_MATH_TENSOR_CORE);
    for (int d : {32, 64, 80, 96, 128}) expect_ok("supported dim", with(MMCA_DESC_DIM_HEAD, d), 0);
    for (int d : {16, 48, 72, 100, 256}) {
        expect_error("unsupported dim", with(MMCA_DESC_DIM_HEAD, d), 0, "attention.dim_head: unsupported head dim " + std::to_string(d));
    }
    expect_error("zero batch", with(MMCA_DESC_BATCH, 0), 0, "attention.batch: expected a positive integer, got 0");
    expect_error("negative keys", with(MMCA_DESC_KEYS, -3), 0, "attention.keys: expected a positive integer, got -3");
    expect_error("kv not divisor", with(MMCA_DESC_KV_HEADS, 3), 0, "attention.kv_heads: expected a divisor of heads (4), got 3");
    expect_error("null q", with(MMCA_DESC_Q, 0), 0, "attention.q: expected a device pointer, got NULL");
    expect_error("null o", with(MMCA_DESC_O, 0), 0, "attention.o: expected a device pointer");
    expect_error("bad row stride", with(MMCA_DESC_K_ROW_STRIDE, 0), 0, "attention.k_row_stride: expected > 0, got 0");
    expect_error("bad mapping", with(MMCA_DESC_HEAD_MAPPING, 2), 0, "attention.head_mapping: expected 0 (modulo) or 1 (grouped), got 2");
    expect_error("bad dtype", with(MMCA_DESC_DTYPE, 7), 1, "attention.dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got 7");
    expect_error("bf16 exact", with(MMCA_DESC_DTYPE, MMCA_DTYPE_BF16), 0, "attention.math: exact fp32 math needs dtype f32");
    expect_error("bad math", good_desc(), 5, "attention.math: expected 0 (exact fp32) or 1 (tensor cores), got 5");
    expect_error("zero scale", with(MMCA_DESC_SCALE_BITS, 0), 0, "attention.scale: expected a finite positive number");
    expect_error("huge batch", with(MMCA_DESC_BATCH, (int64_t)1 << 40), 0, "attention.batch: expected a 32-bit integer");
    {
        std::vector<int64_t> d = good_desc();
        d[MMCA_DESC_KEY_MASK] = 0x5000;
        d[MMCA_DESC_KEY_MASK_BATCH_STRIDE] = 3;
        expect_error("short key mask stride", d, 0, "attention.key_mask_batch_stride: expected at least keys (7), got 3");
    }
    try {
        std::vector<int64_t> d = good_desc();
        mmca_cuda::unpack(d.data(), 5, "attention");
        std::printf("FAIL short descriptor accepted\n");
        failures++;
    } catch (const std::invalid_argument &e) {
        if (std::string(e.what()).find("attention.desc: expected") == std::string::npos) {
            std::printf("FAIL short descriptor message: %s\n", e.what());
            failures++;
        }
    }
    {  // text pair: cross must share queries with self
        mmca_text_params t;
        std::vector<int64_t> a = good_desc(), b = good_desc();
        b[MMCA_DESC_QUERIES] = 6;
        t.self = mmca_cuda::unpack(a.data(), MMCA_DESC_LEN, "self");
        t.cross = mmca_cuda::unpack(b.data(), MMCA_DESC_LEN, "cross");
        try {
            mmca_cuda::validate_text(t, 0);
            std::printf("FAIL text pair with different queries accepted\n");
            failures++;
        } catch (const std::invalid_argument &e) {
            if (std::string(e.what()).find("cross.queries: expected the same value as self (5)") == std::string::npos) {
                std::printf("FAIL text pair message: %s\n", e.what());
                failures++;
            }
        }
        b = good_desc();
        b[MMCA_DESC_KEYS] = 11;  // cross may have its own key count
        t.cross = mmca_cuda::unpack(b.data(), MMCA_DESC_LEN, "cross");
        try {
            mmca_cuda::validate_text(t, 0);
        } catch (const std::exception &e) {
            std::printf("FAIL text pair with other keys rejected: %s\n", e.what());
            failures++;
        }
    }
    if (failures == 0) std::printf("validate_test: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
