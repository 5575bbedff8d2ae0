// Interleaved attention (mmca_cpu_interleaved_attention) against a double-precision reference written from the
// definitions of SPEC "Interleaved MMCA": random layouts of text, image and padding runs, both image rules,
// head ratios and mappings, qk_norm, packed projections, partly filled caches (key lengths and query positions),
// on every instruction-set path this CPU runs; bit-identical results for every thread count; the first
// overflowed row reported; and the entry checks of the block.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "reference.h"

using namespace mmca::test;

namespace {

struct Case {
    int batch, heads, kv_heads, tokens, dim_head;
    bool qk_norm, grouped, block, packed;
    bool cache;  // decoding: `tokens` cached keys (a length per element), a few queries at given positions
};

struct Problem {
    Case c;
    int queries, keys;
    std::vector<float> q, k, v, o;
    std::vector<uint8_t> mod;
    std::vector<int32_t> lengths, positions;
    mmca_interleaved_params ip{};

    Problem(const Case &cs, std::mt19937 &rng) : c(cs) {
        const int D = c.dim_head, HD = c.heads * D, GD = c.kv_heads * D;
        keys = c.tokens;
        queries = c.cache ? 1 + static_cast<int>(rng() % 5) : c.tokens;
        mmca_attention_params &p = ip.attention;
        p.batch = c.batch;
        p.heads = c.heads;
        p.kv_heads = c.kv_heads;
        p.queries = queries;
        p.keys = keys;
        p.dim_head = D;
        p.causal = 1;
        p.qk_norm = c.qk_norm;
        p.scale = c.qk_norm ? 10.0f : 1.0f / std::sqrt(static_cast<float>(D));
        p.head_mapping = c.grouped ? MMCA_HEAD_MAPPING_GROUPED : MMCA_HEAD_MAPPING_MODULO;
        p.dtype = MMCA_DTYPE_F32;
        if (c.packed) {  // the model's layout: [q | k | v] rows, o in the right half of a wider buffer
            const int w = HD + 2 * GD;
            q = normal(rng, static_cast<size_t>(c.batch) * keys * w);
            p.q = q.data();
            p.k = q.data() + HD;
            p.v = q.data() + HD + GD;
            p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = static_cast<int64_t>(keys) * w;
            p.q_row_stride = p.k_row_stride = p.v_row_stride = w;
            o.assign(static_cast<size_t>(c.batch) * queries * 2 * HD, 7.0f);
            p.o = o.data() + HD;
            p.o_batch_stride = static_cast<int64_t>(queries) * 2 * HD;
            p.o_row_stride = 2 * HD;
        } else {
            q = normal(rng, static_cast<size_t>(c.batch) * queries * HD);
            k = normal(rng, static_cast<size_t>(c.batch) * keys * GD);
            v = normal(rng, static_cast<size_t>(c.batch) * keys * GD);
            o.assign(static_cast<size_t>(c.batch) * queries * HD, 7.0f);  // garbage that must be overwritten
            p.q = q.data();
            p.k = k.data();
            p.v = v.data();
            p.o = o.data();
            p.q_batch_stride = static_cast<int64_t>(queries) * HD;
            p.k_batch_stride = p.v_batch_stride = static_cast<int64_t>(keys) * GD;
            p.q_row_stride = HD;
            p.k_row_stride = p.v_row_stride = GD;
            p.o_batch_stride = static_cast<int64_t>(queries) * HD;
            p.o_row_stride = HD;
        }
        p.q_head_stride = p.k_head_stride = p.v_head_stride = p.o_head_stride = D;
        // runs of text, image and padding, images longer, as in real sequences
        mod.resize(static_cast<size_t>(c.batch) * (keys + 2));
        for (int b = 0; b < c.batch; b++) {
            int j = 0;
            while (j < keys) {
                const int r = static_cast<int>(rng() % 10);
                const uint8_t kind = r < 1 ? 0 : (r < 5 ? 1 : 2);
                const int len = 1 + static_cast<int>(rng() % (kind == 2 ? 40 : 8));
                for (int e = 0; e < len && j < keys; e++, j++) mod[b * (keys + 2) + j] = kind;
            }
        }
        ip.modality = mod.data();
        ip.modality_batch_stride = keys + 2;
        ip.image_rule = c.block ? MMCA_IMAGE_RULE_BLOCK : MMCA_IMAGE_RULE_SELF;
        if (c.cache) {
            // element b holds lengths[b] keys (one element past the capacity: clamped); its queries sit at the
            // last positions, one of them (-1) at none
            lengths.resize(c.batch);
            positions.resize(static_cast<size_t>(c.batch) * (queries + 1));
            for (int b = 0; b < c.batch; b++) {
                lengths[b] = b == 1 ? keys + 3 : static_cast<int>(rng() % (keys + 1));
                const int len = std::min(lengths[b], keys);
                for (int i = 0; i < queries; i++) {
                    positions[b * (queries + 1) + i] = i == 0 ? -1 : len - queries + i;
                }
            }
            p.key_lengths = lengths.data();
            p.query_positions = positions.data();
            p.query_positions_batch_stride = queries + 1;
        }
    }

    int key_length(int b) const {
        return c.cache ? std::max(0, std::min(lengths[b], keys)) : keys;
    }

    int position(int b, int i) const {
        return c.cache ? positions[b * (queries + 1) + i] : i;
    }

    uint8_t modality(int b, int j) const { return mod[b * (keys + 2) + j]; }
};

std::vector<double> head(const float *base, int64_t bs, int64_t rs, int b, int row, int h, int D, bool norm) {
    std::vector<double> r(D);
    const float *src = base + b * bs + row * rs + h * D;
    double ss = 0;
    for (int d = 0; d < D; d++) {
        r[d] = src[d];
        ss += r[d] * r[d];
    }
    if (norm) {
        const double n = std::max(std::sqrt(ss), 1e-12);
        for (double &e : r) e /= n;
    }
    return r;
}

// SPEC "Interleaved MMCA" in double precision: each real query's text and image groups as sets of key positions,
// one softmax each, added; [batch, queries, heads, dim_head].
std::vector<double> reference(const Problem &pr) {
    const mmca_attention_params &p = pr.ip.attention;
    const int D = p.dim_head, H = p.heads, G = p.kv_heads;
    std::vector<double> out(static_cast<size_t>(p.batch) * p.queries * H * D, 0.0);
    const float *qf = static_cast<const float *>(p.q);
    const float *kf = static_cast<const float *>(p.k);
    const float *vf = static_cast<const float *>(p.v);
    for (int b = 0; b < p.batch; b++) {
        const int len = pr.key_length(b);
        for (int i = 0; i < p.queries; i++) {
            const int pos = pr.position(b, i);
            const uint8_t kind = pos >= 0 && pos < len ? pr.modality(b, pos) : 0;
            if (kind == 0) continue;
            std::vector<bool> in_t(len), in_i(len);
            for (int j = 0; j < len; j++) {
                const uint8_t t = pr.modality(b, j);
                if (kind == 1 || !pr.c.block) {
                    in_t[j] = t == 1 && j <= pos;
                    in_i[j] = kind == 1 ? t == 2 && j <= pos : j == pos;
                } else if (t == 2) {
                    bool text_between = false;
                    for (int x = std::min(j, pos) + 1; x < std::max(j, pos); x++) text_between |= pr.modality(b, x) == 1;
                    in_i[j] = !text_between;
                }
            }
            for (int h = 0; h < H; h++) {
                const int g = pr.c.grouped ? h / (H / G) : h % G;
                const auto qi = head(qf, p.q_batch_stride, p.q_row_stride, b, i, h, D, pr.c.qk_norm);
                for (const auto *group : {&in_t, &in_i}) {
                    std::vector<double> s(len, -INFINITY);
                    double mx = -INFINITY;
                    for (int j = 0; j < len; j++) {
                        if (!(*group)[j]) continue;
                        const auto kj = head(kf, p.k_batch_stride, p.k_row_stride, b, j, g, D, pr.c.qk_norm);
                        double dot = 0;
                        for (int d = 0; d < D; d++) dot += qi[d] * kj[d];
                        s[j] = p.scale * dot;
                        mx = std::max(mx, s[j]);
                    }
                    if (mx == -INFINITY) continue;
                    double sum = 0;
                    for (int j = 0; j < len; j++) sum += (*group)[j] ? std::exp(s[j] - mx) : 0.0;
                    for (int j = 0; j < len; j++) {
                        if (!(*group)[j]) continue;
                        const auto vj = head(vf, p.v_batch_stride, p.v_row_stride, b, j, g, D, false);
                        const double w = std::exp(s[j] - mx) / sum;
                        for (int d = 0; d < D; d++) out[((static_cast<size_t>(b) * p.queries + i) * H + h) * D + d] += w * vj[d];
                    }
                }
            }
        }
    }
    return out;
}

Case random_case(std::mt19937 &rng, bool packed) {
    std::uniform_int_distribution<int> pick(0, 1 << 30);
    const int heads_options[] = {1, 2, 4, 6, 8, 16};
    Case c{};
    c.heads = heads_options[pick(rng) % 6];
    std::vector<int> divisors;
    for (int g = 1; g <= c.heads; g++)
        if (c.heads % g == 0) divisors.push_back(g);
    c.kv_heads = divisors[pick(rng) % divisors.size()];
    const int dims[] = {1, 7, 16, 32, 64, 80};
    c.dim_head = dims[pick(rng) % 6];
    c.batch = 1 + pick(rng) % 3;
    c.tokens = 1 + pick(rng) % 180;
    c.qk_norm = pick(rng) % 3 == 0;
    c.grouped = pick(rng) % 2;
    c.block = pick(rng) % 2;
    c.packed = packed;
    c.cache = !packed && pick(rng) % 3 == 0;
    return c;
}

std::string describe(const Case &c) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "B=%d H=%d G=%d N=%d D=%d qkNorm=%d grouped=%d rule=%s packed=%d cache=%d", c.batch,
                  c.heads, c.kv_heads, c.tokens, c.dim_head, c.qk_norm, c.grouped, c.block ? "block" : "self", c.packed,
                  c.cache);
    return buf;
}

std::vector<double> output(const Problem &pr) {
    const mmca_attention_params &p = pr.ip.attention;
    return gather_output(p);
}

void parity_sweep(const std::string &isa) {
    mmca_cpu_set_isa(isa.c_str());
    std::mt19937 rng(4321);
    double worst = 0;
    for (int n = 0; n < 50; n++) {
        Case c = random_case(rng, n % 4 == 3);
        Problem pr(c, rng);
        mmca_cpu_interleaved_attention(&pr.ip);
        const double err = relative_error(output(pr), reference(pr));
        worst = std::max(worst, err);
        check(err <= 1e-5, isa + " " + describe(c) + ": relative error " + std::to_string(err));
        // padding rows (and rows at no position) are exactly zero
        const int HD = c.heads * c.dim_head;
        const int64_t row_stride = pr.ip.attention.o_row_stride;
        const float *o = static_cast<const float *>(pr.ip.attention.o);
        for (int b = 0; b < c.batch; b++) {
            for (int i = 0; i < pr.queries; i++) {
                const int pos = pr.position(b, i);
                if (pos >= 0 && pos < pr.key_length(b) && pr.modality(b, pos) != 0) continue;
                bool zero = true;
                for (int e = 0; e < HD; e++) zero &= o[b * pr.ip.attention.o_batch_stride + i * row_stride + e] == 0.0f;
                check(zero, isa + " " + describe(c) + ": a padding row is not zero");
            }
        }
        if (c.packed) {  // the left half of the output buffer is not ours to touch
            bool untouched = true;
            for (size_t r = 0; r < pr.o.size() / (2 * HD); r++)
                for (int e = 0; e < HD; e++) untouched &= pr.o[r * 2 * HD + e] == 7.0f;
            check(untouched, isa + " " + describe(c) + ": wrote outside the output view");
        }
    }
    std::printf("%-8s interleaved: worst relative error over the sweep: %.3g\n", isa.c_str(), worst);
}

void identical_for_every_thread_count() {
    std::mt19937 rng(17);
    for (bool block : {false, true}) {
        Problem pr(Case{2, 8, 2, 300, 64, false, true, block, false, false}, rng);
        std::vector<float> first;
        for (int threads : {1, 2, 7, 1}) {
            mmca_cpu_set_threads(threads);
            std::fill(pr.o.begin(), pr.o.end(), 0.0f);
            mmca_cpu_interleaved_attention(&pr.ip);
            if (first.empty()) first = pr.o;
            check(std::memcmp(first.data(), pr.o.data(), first.size() * sizeof(float)) == 0,
                  "interleaved outputs with " + std::to_string(threads) + " threads differ from 1 thread");
        }
    }
    mmca_cpu_set_threads(2);
}

void overflow_is_reported() {
    std::mt19937 rng(5);
    Problem pr(Case{2, 4, 2, 9, 16, false, false, false, false, false}, rng);
    for (int j = 0; j < 9; j++) pr.mod[(pr.keys + 2) + j] = 1;  // element 1: all text
    const int HD = 4 * 16;
    for (int d = 0; d < 16; d++) pr.q[(9 + 4) * HD + d] = 3e38f;  // element 1, query 4, head 0
    for (auto &x : pr.k) x = 1.0f;
    const int64_t row = mmca_cpu_interleaved_attention(&pr.ip);
    check(row == 9 + 4, "an overflowed row is reported: got " + std::to_string(row));
}

void entry_checks() {
    std::mt19937 rng(3);
    Problem good(Case{2, 4, 2, 10, 8, false, false, false, false, false}, rng);
    expect_error([&] { mmca_cpu_interleaved_attention(nullptr); }, "mmca_interleaved_params: expected a non-null pointer");
    mmca_interleaved_params p = good.ip;
    p.attention.causal = 0;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "mmca_interleaved_params.attention.causal: expected 1");
    p = good.ip;
    p.image_rule = 2;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "mmca_interleaved_params.image_rule: expected");
    p = good.ip;
    p.modality = nullptr;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "mmca_interleaved_params.modality: expected a non-null");
    p = good.ip;
    p.reserved = 1;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "mmca_interleaved_params.reserved: expected 0, got 1");
    p = good.ip;
    p.attention.key_mask = good.mod.data();
    p.attention.key_mask_batch_stride = 10;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "attention.key_mask: expected NULL key and query masks");
    p = good.ip;
    p.modality_batch_stride = 3;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "modality_batch_stride: expected at least keys=10, got 3");
    p = good.ip;
    p.attention.kv_heads = 3;
    expect_error([&] { mmca_cpu_interleaved_attention(&p); }, "mmca_interleaved_params.attention.kv_heads: expected a divisor");
    good.mod[12 + 7] = 5;
    expect_error([&] { mmca_cpu_interleaved_attention(&good.ip); },
                 "mmca_interleaved_params.modality: expected 0 (padding), 1 (text) or 2 (image), got 5 at [1, 7]");
    check(mmca_cpu_interleaved_params_size() == MMCA_INTERLEAVED_PARAMS_SIZE, "params size");
}

}  // namespace

int main() {
    std::vector<std::string> isas = runnable_isas();
    for (const std::string &isa : isas) {
        parity_sweep(isa);
        mmca_cpu_set_isa(isa.c_str());
        identical_for_every_thread_count();
        overflow_is_reported();
    }
    entry_checks();
    std::printf("%s (%d failures)\n", failures() ? "FAILED" : "passed", failures());
    return failures() != 0;
}
