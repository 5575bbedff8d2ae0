// Malformed arguments become exceptions naming the argument, never crashes.
#include <cmath>
#include <cstdio>

#include "reference.h"

using namespace mmca::test;

namespace {

mmca_attention_params valid(float *buf) {
    mmca_attention_params p{};
    p.q = p.k = p.v = buf;
    p.o = buf + 256;
    p.batch = 1;
    p.heads = 8;
    p.kv_heads = 2;
    p.queries = 2;
    p.keys = 2;
    p.dim_head = 4;
    p.scale = 0.5f;
    p.q_row_stride = p.o_row_stride = 32;
    p.k_row_stride = p.v_row_stride = 8;
    p.q_head_stride = p.k_head_stride = p.v_head_stride = p.o_head_stride = 4;
    return p;
}

}  // namespace

int main() {
    static float buf[512];
    mmca_attention_params p = valid(buf);
    mmca_cpu_attention(&p);  // the valid block runs

    expect_error([] { mmca_cpu_attention(nullptr); }, "mmca_attention_params: expected a non-null pointer, got NULL");
    p = valid(buf);
    p.kv_heads = 3;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.kv_heads: expected a divisor of heads=8, got 3");
    p = valid(buf);
    p.k = nullptr;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.k: expected a non-null pointer, got NULL");
    p = valid(buf);
    p.dim_head = 0;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.dim_head: expected a positive integer, got 0");
    p = valid(buf);
    p.dtype = MMCA_DTYPE_BF16;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.dtype: expected MMCA_DTYPE_F32");
    p = valid(buf);
    p.head_mapping = 5;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.head_mapping: expected");
    p = valid(buf);
    p.scale = NAN;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.scale: expected a finite positive number");
    p = valid(buf);
    p.q_row_stride = -1;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.q_row_stride: expected a non-negative stride, got -1");

    expect_error([] { mmca_cpu_set_threads(0); }, "threads: expected an integer in [1, 4096], got 0");
    expect_error([] { mmca_cpu_set_isa("sse9"); }, "isa: expected portable, avx2 or avx512, got 'sse9'");
    p = valid(buf);
    p.reserved = 7;
    expect_error([&] { mmca_cpu_attention(&p); }, "mmca_attention_params.reserved: expected 0, got 7");

    expect_error([] { mmca_cpu_weights_create(nullptr, 2, 2); }, "w: expected a non-null pointer, got NULL");
    expect_error([] { mmca_cpu_weights_create(buf, 0, 2); }, "out: expected a positive integer, got 0");
    expect_error([] { mmca_cpu_linear(nullptr, buf, 2, buf, 2, 1); }, "weights: expected live mmca_cpu_weights, got NULL");
    mmca_cpu_weights *w = mmca_cpu_weights_create(buf, 3, 4);  // [out 3, in 4]
    expect_error([&] { mmca_cpu_linear(w, buf, 3, buf + 64, 3, 1); }, "ldx: expected at least in=4, got 3");
    expect_error([&] { mmca_cpu_linear(w, buf, 4, buf + 64, 2, 1); }, "ldy: expected at least out=3, got 2");
    expect_error([&] { mmca_cpu_linear(w, buf, 4, nullptr, 3, 1); }, "y: expected a non-null pointer, got NULL");
    expect_error([&] { mmca_cpu_linear(w, buf, 4, buf + 64, 3, 0); }, "rows: expected a positive integer, got 0");
    mmca_cpu_weights_free(w);
    expect_error([] { mmca_cpu_add(nullptr, buf, buf, 4); }, "out: expected a non-null pointer, got NULL");
    expect_error([] { mmca_cpu_add(buf, buf, buf, -1); }, "n: expected a positive integer, got -1");
    std::printf("%s (%d failures)\n", failures() ? "FAILED" : "passed", failures());
    return failures() != 0;
}
