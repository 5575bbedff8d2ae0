// Host-only checks of the interleaved block's validation: a good block passes (key lengths and query positions
// included), every bad field is rejected with a message that names it, and the formatter prints every field.
// Runs without a GPU.
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>

#include "mmca_cuda/api.h"
#include "validate.h"

namespace {

int failures = 0;

mmca_interleaved_params good() {
    mmca_interleaved_params ip;
    std::memset(&ip, 0, sizeof ip);
    mmca_attention_params &p = ip.attention;
    p.q = reinterpret_cast<const void *>(0x1000);
    p.k = reinterpret_cast<const void *>(0x2000);
    p.v = reinterpret_cast<const void *>(0x3000);
    p.o = reinterpret_cast<void *>(0x4000);
    const int64_t N = 5, H = 4, G = 2, D = 64;
    p.q_batch_stride = N * H * D; p.q_row_stride = H * D; p.q_head_stride = D;
    p.k_batch_stride = N * G * D; p.k_row_stride = G * D; p.k_head_stride = D;
    p.v_batch_stride = N * G * D; p.v_row_stride = G * D; p.v_head_stride = D;
    p.o_batch_stride = N * H * D; p.o_row_stride = H * D; p.o_head_stride = D;
    p.batch = 2; p.heads = H; p.kv_heads = G; p.queries = N; p.keys = N; p.dim_head = D;
    p.scale = 0.125f;
    p.causal = 1;
    ip.modality = reinterpret_cast<const uint8_t *>(0x5000);
    ip.modality_batch_stride = N;
    return ip;
}

void expect(const char *name, const mmca_interleaved_params &ip, const std::string &fragment) {
    try {
        mmca_cuda::validate_interleaved(&ip, MMCA_MATH_EXACT);
        if (!fragment.empty()) {
            std::printf("FAIL %s: accepted, expected an error containing '%s'\n", name, fragment.c_str());
            failures++;
        }
    } catch (const std::invalid_argument &e) {
        if (fragment.empty() || std::string(e.what()).find(fragment) == std::string::npos) {
            std::printf("FAIL %s: message '%s' (expected '%s')\n", name, e.what(), fragment.c_str());
            failures++;
        }
    }
}

mmca_interleaved_params with(const std::function<void(mmca_interleaved_params &)> &change) {
    mmca_interleaved_params ip = good();
    change(ip);
    return ip;
}

}  // namespace

int main() {
    expect("valid", good(), "");
    int32_t lengths[2] = {3, 5}, positions[10] = {0};
    expect("valid with a cache", with([&](auto &ip) {
        ip.attention.key_lengths = lengths;
        ip.attention.query_positions = positions;
        ip.attention.query_positions_batch_stride = 5;
    }), "");
    expect("valid block rule", with([](auto &ip) { ip.image_rule = MMCA_IMAGE_RULE_BLOCK; }), "");
    expect("not causal", with([](auto &ip) { ip.attention.causal = 0; }),
           "interleaved.attention.causal: expected 1 (the text groups are causal), got 0");
    expect("key mask", with([](auto &ip) {
        ip.attention.key_mask = reinterpret_cast<const uint8_t *>(0x6000);
        ip.attention.key_mask_batch_stride = 5;
    }),
           "interleaved.attention.key_mask: expected NULL key and query masks");
    expect("rule", with([](auto &ip) { ip.image_rule = 3; }), "interleaved.image_rule: expected 0 (self) or 1 (block), got 3");
    expect("reserved", with([](auto &ip) { ip.reserved = 9; }), "interleaved.reserved: expected 0, got 9");
    expect("modality", with([](auto &ip) { ip.modality = nullptr; }), "interleaved.modality: expected a device pointer");
    expect("modality stride", with([](auto &ip) { ip.modality_batch_stride = 2; }),
           "interleaved.modality_batch_stride: expected at least keys (5), got 2");
    expect("positions stride", with([&](auto &ip) {
        ip.attention.query_positions = positions;
        ip.attention.query_positions_batch_stride = 1;
    }), "interleaved.attention.query_positions_batch_stride: expected at least queries (5), got 1");
    expect("head dim", with([](auto &ip) { ip.attention.dim_head = 48; }),
           "interleaved.attention.dim_head: unsupported head dim 48");
    expect("kv heads", with([](auto &ip) { ip.attention.kv_heads = 3; }), "interleaved.attention.kv_heads: expected a divisor");
    if (mmca_cuda_interleaved_params_size() != MMCA_INTERLEAVED_PARAMS_SIZE) {
        std::printf("FAIL size: %d\n", mmca_cuda_interleaved_params_size());
        failures++;
    }
    char buf[1024];
    mmca_interleaved_params ip = with([](auto &x) { x.image_rule = 1; });
    const int n = mmca_cuda_format_interleaved_params(&ip, buf, sizeof buf);
    const std::string text(buf, n > 0 ? (size_t)n : 0);
    if (text.find(" modality=5000,5 image_rule=1 reserved=0") == std::string::npos || text.find("q=1000") != 0) {
        std::printf("FAIL format: '%s'\n", text.c_str());
        failures++;
    }
    std::printf(failures == 0 ? "interleaved_validate_test: all checks passed\n"
                              : "interleaved_validate_test: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
