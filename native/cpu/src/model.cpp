#include "model.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "attention.h"
#include "gemm.h"

namespace mmca::cpu {
namespace {

void append(std::vector<float> &dst, const float *src, size_t n) { dst.insert(dst.end(), src, src + n); }

// The attention view of a packed projection output [batch * tokens, width]: heads of dim_head
// starting at column `col`.
void set_q(mmca_attention_params &p, const float *base, int64_t col, int64_t width, int tokens, int dim_head) {
    p.q = base + col;
    p.q_batch_stride = width * tokens;
    p.q_row_stride = width;
    p.q_head_stride = dim_head;
}
void set_kv(mmca_attention_params &p, const float *base, int64_t kcol, int64_t vcol, int64_t width, int tokens,
            int dim_head) {
    p.k = base + kcol;
    p.v = base + vcol;
    p.k_batch_stride = p.v_batch_stride = width * tokens;
    p.k_row_stride = p.v_row_stride = width;
    p.k_head_stride = p.v_head_stride = dim_head;
}
void set_o(mmca_attention_params &p, float *base, int64_t col, int64_t width, int tokens, int dim_head) {
    p.o = base + col;
    p.o_batch_stride = width * tokens;
    p.o_row_stride = width;
    p.o_head_stride = dim_head;
}

}  // namespace

Model::Model(const mmca_cpu_model_desc &d)
    : dim(d.dim), heads(d.heads), kv_heads(d.kv_heads), dim_head(d.dim_head), causal(d.causal != 0),
      qk_norm(d.qk_norm != 0), seed(d.composition == MMCA_COMPOSITION_SEED), head_mapping(d.head_mapping) {
    const size_t hd = static_cast<size_t>(heads) * dim_head * dim;  // elements of a to_q matrix
    const size_t gd = static_cast<size_t>(kv_heads) * dim_head * dim;
    append(visual_qkv, d.visual_q, hd);
    append(visual_qkv, d.visual_k, gd);
    append(visual_qkv, d.visual_v, gd);
    visual_out.assign(d.visual_out, d.visual_out + hd);
    if (seed) {
        append(text_proj, d.textual_q, hd);
        append(text_proj, d.textual_k, gd);
        append(text_proj, d.textual_v, gd);
        append(cross_proj, d.cross_q, hd);
        append(cross_proj, d.cross_k, gd);
        append(cross_proj, d.cross_v, gd);
    } else {
        append(text_proj, d.textual_q, hd);
        append(text_proj, d.cross_q, hd);
        append(text_proj, d.textual_k, gd);
        append(text_proj, d.textual_v, gd);
        append(cross_proj, d.cross_k, gd);
        append(cross_proj, d.cross_v, gd);
    }
    const size_t inner = static_cast<size_t>(heads) * dim_head;
    text_out.resize(2 * hd);
    for (int o = 0; o < dim; o++) {
        std::memcpy(&text_out[o * 2 * inner], d.textual_out + o * inner, inner * sizeof(float));
        std::memcpy(&text_out[o * 2 * inner + inner], d.cross_out + o * inner, inner * sizeof(float));
    }
    // Store every matrix transposed ([in, out]) once, the layout the projections read.
    transpose(visual_qkv, dim);
    transpose(visual_out, static_cast<int64_t>(inner));
    transpose(text_proj, dim);
    transpose(cross_proj, dim);
    transpose(text_out, static_cast<int64_t>(2 * inner));
}

void Model::transpose(std::vector<float> &w, int64_t in) {
    const int64_t out = static_cast<int64_t>(w.size()) / in;
    std::vector<float> t(w.size());
    transpose_into(w.data(), out, in, t.data());
    w.swap(t);
}

int64_t Model::bytes() const {
    return static_cast<int64_t>(sizeof(float))
           * (visual_qkv.size() + visual_out.size() + text_proj.size() + cross_proj.size() + text_out.size());
}

void Model::forward(const float *visual, const float *text, const uint8_t *vmask, const uint8_t *tmask,
                    float *vout, float *tout, int batch, int nv, int nt) const {
    const int64_t HD = static_cast<int64_t>(heads) * dim_head;
    const int64_t GD = static_cast<int64_t>(kv_heads) * dim_head;
    const int64_t rv = static_cast<int64_t>(batch) * nv;
    const int64_t rt = static_cast<int64_t>(batch) * nt;
    const int64_t wv = HD + 2 * GD;                    // visual projection width
    const int64_t wt = seed ? HD + 2 * GD : 2 * HD + 2 * GD;
    const int64_t wc = seed ? HD + 2 * GD : 2 * GD;
    const int64_t rc = seed ? rt : rv;                 // rows projected by cross_proj

    // Per-call scratch in one block (uninitialised: every element is written before it is read).
    const int64_t sum_size = seed ? rt * dim : 0;
    std::unique_ptr<float[]> scratch(new float[rv * wv + rv * HD + rt * wt + rc * wc + rt * 2 * HD + sum_size]);
    float *const vproj = scratch.get();         // [rv, wv] visual q | k | v
    float *const ov = vproj + rv * wv;           // [rv, H D] visual head outputs
    float *const tproj = ov + rv * HD;           // [rt, wt] projections of t
    float *const cproj = tproj + rt * wt;        // [rc, wc] cross projections
    float *const ot = cproj + rc * wc;           // [rt, 2 H D] self | cross head outputs
    float *const sum = ot + rt * 2 * HD;         // SEED: t + visual

    mmca_attention_params base{};
    base.batch = batch;
    base.heads = heads;
    base.kv_heads = kv_heads;
    base.dim_head = dim_head;
    base.scale = qk_norm ? 10.0f : 1.0f / std::sqrt(static_cast<float>(dim_head));
    base.qk_norm = qk_norm;
    base.head_mapping = head_mapping;
    base.dtype = MMCA_DTYPE_F32;

    // visual = visual_self_attn(v, mask = vMask): bidirectional (CROSS) or causal (SEED).
    linear(visual, dim, visual_qkv.data(), wv, vproj, wv, rv, wv, dim);
    mmca_attention_params pv = base;
    pv.queries = pv.keys = nv;
    pv.causal = seed && causal;
    set_q(pv, vproj, 0, wv, nv, dim_head);
    set_kv(pv, vproj, HD, HD + GD, wv, nv, dim_head);
    set_o(pv, ov, 0, HD, nv, dim_head);
    pv.key_mask = pv.query_mask = vmask;
    pv.key_mask_batch_stride = pv.query_mask_batch_stride = nv;
    run_attention(pv);
    linear(ov, HD, visual_out.data(), dim, vout, dim, rv, dim, HD);

    mmca_text_params tp;
    tp.self = base;
    tp.cross = base;
    tp.self.queries = tp.self.keys = nt;
    tp.self.causal = causal;
    tp.self.key_mask = tp.self.query_mask = tmask;
    tp.self.key_mask_batch_stride = tp.self.query_mask_batch_stride = nt;
    tp.cross.queries = nt;
    tp.cross.query_mask = tmask;
    tp.cross.query_mask_batch_stride = nt;
    set_o(tp.self, ot, 0, 2 * HD, nt, dim_head);
    set_o(tp.cross, ot, HD, 2 * HD, nt, dim_head);
    linear(text, dim, text_proj.data(), wt, tproj, wt, rt, wt, dim);
    if (seed) {
        // text = textual_self_attn(t) + cross_attn(t + visual), one causal flag for every block.
        set_q(tp.self, tproj, 0, wt, nt, dim_head);
        set_kv(tp.self, tproj, HD, HD + GD, wt, nt, dim_head);
        for (int64_t i = 0; i < rt * dim; i++) sum[i] = text[i] + vout[i];
        linear(sum, dim, cross_proj.data(), wc, cproj, wc, rt, wc, dim);
        tp.cross.keys = nt;
        tp.cross.causal = causal;
        tp.cross.key_mask = tmask;
        tp.cross.key_mask_batch_stride = nt;
        set_q(tp.cross, cproj, 0, wc, nt, dim_head);
        set_kv(tp.cross, cproj, HD, HD + GD, wc, nt, dim_head);
    } else {
        // text = textual_self_attn(t, causal) + cross_attn(t, context = visual, contextMask = vMask).
        set_q(tp.self, tproj, 0, wt, nt, dim_head);
        set_kv(tp.self, tproj, 2 * HD, 2 * HD + GD, wt, nt, dim_head);
        linear(vout, dim, cross_proj.data(), wc, cproj, wc, rv, wc, dim);
        tp.cross.keys = nv;
        tp.cross.causal = 0;
        tp.cross.key_mask = vmask;
        tp.cross.key_mask_batch_stride = nv;
        set_q(tp.cross, tproj, HD, wt, nt, dim_head);
        set_kv(tp.cross, cproj, 0, GD, wc, nv, dim_head);
    }
    run_text_attention(tp);
    linear(ot, 2 * HD, text_out.data(), dim, tout, dim, rt, dim, 2 * HD);
}

}  // namespace mmca::cpu
