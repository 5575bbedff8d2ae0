// The fused MMCA text operation: self and cross attention over the same query rows, each with its
// own softmax, written side by side; each half must match its own reference.
#include <cmath>
#include <cstdio>

#include "reference.h"

using namespace mmca::test;

namespace {

void check_text(const std::string &isa, int batch, int heads, int kv_heads, int nt, int nv, int D, bool grouped,
                unsigned seed) {
    std::mt19937 rng(seed);
    const int HD = heads * D, GD = kv_heads * D;
    std::vector<float> tq = normal(rng, static_cast<size_t>(batch) * nt * HD);
    std::vector<float> cq = normal(rng, static_cast<size_t>(batch) * nt * HD);
    std::vector<float> tk = normal(rng, static_cast<size_t>(batch) * nt * GD);
    std::vector<float> tv = normal(rng, static_cast<size_t>(batch) * nt * GD);
    std::vector<float> ck = normal(rng, static_cast<size_t>(batch) * nv * GD);
    std::vector<float> cv = normal(rng, static_cast<size_t>(batch) * nv * GD);
    std::vector<float> out(static_cast<size_t>(batch) * nt * 2 * HD, 5.0f);
    std::vector<uint8_t> tmask(static_cast<size_t>(batch) * nt, 1), vmask(static_cast<size_t>(batch) * nv, 1);
    for (int i = nt / 2; i < nt; i++) tmask[i] = 0;      // batch 0: padded text
    for (int j = 0; j < nv; j++) vmask[j] = (j % 3) != 0;  // batch 0: scattered visual padding

    mmca_text_params tp{};
    for (mmca_attention_params *p : {&tp.self, &tp.cross}) {
        p->batch = batch;
        p->heads = heads;
        p->kv_heads = kv_heads;
        p->queries = nt;
        p->dim_head = D;
        p->scale = 1.0f / std::sqrt(static_cast<float>(D));
        p->head_mapping = grouped ? MMCA_HEAD_MAPPING_GROUPED : MMCA_HEAD_MAPPING_MODULO;
        p->q_batch_stride = static_cast<int64_t>(nt) * HD;
        p->q_row_stride = HD;
        p->q_head_stride = p->k_head_stride = p->v_head_stride = p->o_head_stride = D;
        p->o_batch_stride = static_cast<int64_t>(nt) * 2 * HD;
        p->o_row_stride = 2 * HD;
        p->query_mask = tmask.data();
        p->query_mask_batch_stride = nt;
        p->k_row_stride = p->v_row_stride = GD;
    }
    tp.self.q = tq.data();
    tp.self.k = tk.data();
    tp.self.v = tv.data();
    tp.self.o = out.data();
    tp.self.keys = nt;
    tp.self.causal = 1;
    tp.self.key_mask = tmask.data();
    tp.self.key_mask_batch_stride = nt;
    tp.self.k_batch_stride = tp.self.v_batch_stride = static_cast<int64_t>(nt) * GD;
    tp.cross.q = cq.data();
    tp.cross.k = ck.data();
    tp.cross.v = cv.data();
    tp.cross.o = out.data() + HD;
    tp.cross.keys = nv;
    tp.cross.key_mask = vmask.data();
    tp.cross.key_mask_batch_stride = nv;
    tp.cross.k_batch_stride = tp.cross.v_batch_stride = static_cast<int64_t>(nv) * GD;

    std::vector<double> ref_self = attention_reference(tp.self);
    std::vector<double> ref_cross = attention_reference(tp.cross);
    mmca_cpu_text_attention(&tp);
    double es = relative_error(gather_output(tp.self), ref_self);
    double ec = relative_error(gather_output(tp.cross), ref_cross);
    char what[200];
    std::snprintf(what, sizeof what, "%s B=%d H=%d G=%d Nt=%d Nv=%d D=%d grouped=%d: self %.3g cross %.3g", isa.c_str(),
                  batch, heads, kv_heads, nt, nv, D, grouped, es, ec);
    std::printf("%s\n", what);
    check(es <= 1e-5 && ec <= 1e-5, what);
}

void mismatched_halves_are_rejected() {
    mmca_text_params tp{};
    float x[64] = {0};
    for (mmca_attention_params *p : {&tp.self, &tp.cross}) {
        p->q = p->k = p->v = x;
        p->o = x;
        p->batch = 1;
        p->heads = 2;
        p->kv_heads = 1;
        p->queries = 2;
        p->keys = 2;
        p->dim_head = 4;
        p->scale = 0.5f;
        p->q_row_stride = p->o_row_stride = 8;
        p->q_head_stride = p->o_head_stride = 4;
        p->k_row_stride = p->v_row_stride = 4;
    }
    tp.cross.queries = 3;
    expect_error([&] { mmca_cpu_text_attention(&tp); },
                 "mmca_text_params.cross.queries: expected the same as self.queries=2, got 3");
    tp.cross.queries = 2;
    tp.self.kv_heads = 0;
    expect_error([&] { mmca_cpu_text_attention(&tp); }, "mmca_text_params.self.kv_heads: expected a positive integer, got 0");
}

}  // namespace

int main() {
    for (const std::string &isa : runnable_isas()) {
        mmca_cpu_set_isa(isa.c_str());
        check_text(isa, 2, 8, 2, 37, 53, 64, false, 1);
        check_text(isa, 3, 6, 3, 70, 20, 80, true, 2);
        check_text(isa, 1, 4, 4, 130, 129, 32, false, 3);
    }
    mismatched_halves_are_rejected();
    std::printf("%s (%d failures)\n", failures() ? "FAILED" : "passed", failures());
    return failures() != 0;
}
