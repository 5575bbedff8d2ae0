// Fused attention against the double-precision reference: a random sweep over sizes, head ratios,
// both mappings, masks, causal offsets and qk_norm, on every instruction-set path this CPU runs;
// plus bit-identical results for every thread count.
#include <cstdio>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include "reference.h"

using namespace mmca::test;

namespace {

struct Case {
    int batch, heads, kv_heads, queries, keys, dim_head;
    bool causal, qk_norm, grouped, key_mask, query_mask, packed;
    bool cache;  // a partly filled key/value cache: per-element key lengths and query positions
    bool kv_rows = false;  // k and v side by side in one [keys, 2 G D] buffer, as a decoding cache holds them
};

// Inputs and output for one case; when `packed`, q, k and v live in one [rows, (H + 2G) D] buffer
// (as the model's projection output) and o in the right half of a [rows, 2 H D] buffer.
struct Problem {
    std::vector<float> q, k, v, o;
    std::vector<uint8_t> km, qm;
    std::vector<int32_t> lengths, positions;
    mmca_attention_params p{};

    Problem(const Case &c, std::mt19937 &rng) {
        const int D = c.dim_head, HD = c.heads * D, GD = c.kv_heads * D;
        p.batch = c.batch;
        p.heads = c.heads;
        p.kv_heads = c.kv_heads;
        p.queries = c.queries;
        p.keys = c.keys;
        p.dim_head = D;
        p.causal = c.causal;
        p.qk_norm = c.qk_norm;
        p.scale = c.qk_norm ? 10.0f : 1.0f / std::sqrt(static_cast<float>(D));
        p.head_mapping = c.grouped ? MMCA_HEAD_MAPPING_GROUPED : MMCA_HEAD_MAPPING_MODULO;
        p.dtype = MMCA_DTYPE_F32;
        if (c.packed) {
            // Self-attention layout: queries == keys rows in one buffer.
            const int w = HD + 2 * GD;
            q = normal(rng, static_cast<size_t>(c.batch) * c.keys * w);
            p.q = q.data();
            p.k = q.data() + HD;
            p.v = q.data() + HD + GD;
            p.q_batch_stride = p.k_batch_stride = p.v_batch_stride = static_cast<int64_t>(c.keys) * w;
            p.q_row_stride = p.k_row_stride = p.v_row_stride = w;
            o.assign(static_cast<size_t>(c.batch) * c.queries * 2 * HD, 7.0f);
            p.o = o.data() + HD;
            p.o_batch_stride = static_cast<int64_t>(c.queries) * 2 * HD;
            p.o_row_stride = 2 * HD;
        } else {
            q = normal(rng, static_cast<size_t>(c.batch) * c.queries * HD);
            const int kv_width = c.kv_rows ? 2 * GD : GD;
            k = normal(rng, static_cast<size_t>(c.batch) * c.keys * kv_width);
            if (!c.kv_rows) v = normal(rng, static_cast<size_t>(c.batch) * c.keys * GD);
            o.assign(static_cast<size_t>(c.batch) * c.queries * HD, 7.0f);  // garbage that must be overwritten
            p.q = q.data();
            p.k = k.data();
            p.v = c.kv_rows ? k.data() + GD : v.data();
            p.o = o.data();
            p.q_batch_stride = static_cast<int64_t>(c.queries) * HD;
            p.k_batch_stride = p.v_batch_stride = static_cast<int64_t>(c.keys) * kv_width;
            p.q_row_stride = HD;
            p.k_row_stride = p.v_row_stride = kv_width;
            p.o_batch_stride = static_cast<int64_t>(c.queries) * HD;
            p.o_row_stride = HD;
        }
        p.q_head_stride = p.k_head_stride = p.v_head_stride = p.o_head_stride = D;
        std::uniform_real_distribution<double> u(0, 1);
        if (c.key_mask) {
            km.resize(static_cast<size_t>(c.batch) * c.keys);
            for (auto &x : km) x = u(rng) < 0.7;
            for (int j = 0; j < c.keys; j++) km[j] = 0;  // batch element 0: no visible key at all
            p.key_mask = km.data();
            p.key_mask_batch_stride = c.keys;
        }
        if (c.query_mask) {
            qm.resize(static_cast<size_t>(c.batch) * c.queries);
            for (auto &x : qm) x = u(rng) < 0.8;
            p.query_mask = qm.data();
            p.query_mask_batch_stride = c.queries;
        }
        if (c.cache) {
            // element b holds lengths[b] keys (0 .. keys, one element beyond: clamped); its queries sit
            // at increasing positions ending at the last key, one of them before the first key
            std::uniform_int_distribution<int> len(0, c.keys);
            lengths.resize(c.batch);
            positions.resize(static_cast<size_t>(c.batch) * (c.queries + 3));
            for (int b = 0; b < c.batch; b++) {
                lengths[b] = b == 1 ? c.keys + 5 : len(rng);
                for (int i = 0; i < c.queries; i++) {
                    positions[b * (c.queries + 3) + i] = i == 0 ? -1 : lengths[b] - c.queries + i;
                }
            }
            p.key_lengths = lengths.data();
            p.query_positions = positions.data();
            p.query_positions_batch_stride = c.queries + 3;
        }
    }
};

Case random_case(std::mt19937 &rng, bool packed) {
    std::uniform_int_distribution<int> pick(0, 1 << 30);
    const int heads_options[] = {1, 2, 4, 6, 8, 12, 16};
    Case c{};
    c.heads = heads_options[pick(rng) % 7];
    std::vector<int> divisors;
    for (int g = 1; g <= c.heads; g++)
        if (c.heads % g == 0) divisors.push_back(g);
    c.kv_heads = divisors[pick(rng) % divisors.size()];
    const int dims[] = {1, 7, 16, 32, 64, 80, 96};
    c.dim_head = dims[pick(rng) % 7];
    c.batch = 1 + pick(rng) % 3;
    c.queries = 1 + pick(rng) % 150;
    c.keys = packed ? c.queries : 1 + pick(rng) % 200;
    c.causal = pick(rng) % 2;
    c.qk_norm = pick(rng) % 3 == 0;
    c.grouped = pick(rng) % 2;
    c.key_mask = pick(rng) % 2;
    c.query_mask = pick(rng) % 3 == 0;
    c.packed = packed;
    c.cache = !packed && pick(rng) % 3 == 0;
    if (c.cache && pick(rng) % 2 == 0) {
        c.queries = 1 + pick(rng) % 4;  // a decoding step: a few queries over a long cache (split into chunks)
        c.keys = 300 + pick(rng) % 700;
    }
    return c;
}

std::string describe(const Case &c) {
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "B=%d H=%d G=%d N=%d M=%d D=%d causal=%d qkNorm=%d grouped=%d kmask=%d qmask=%d packed=%d cache=%d",
                  c.batch, c.heads, c.kv_heads, c.queries, c.keys, c.dim_head, c.causal, c.qk_norm, c.grouped,
                  c.key_mask, c.query_mask, c.packed, c.cache);
    return buf;
}

void parity_sweep(const std::string &isa) {
    mmca_cpu_set_isa(isa.c_str());
    std::mt19937 rng(1234);
    double worst = 0;
    for (int n = 0; n < 60; n++) {
        Case c = random_case(rng, n % 4 == 3);
        Problem pr(c, rng);
        std::vector<double> ref = attention_reference(pr.p);
        mmca_cpu_attention(&pr.p);
        double err = relative_error(gather_output(pr.p), ref);
        worst = std::max(worst, err);
        check(err <= 1e-5, isa + " " + describe(c) + ": relative error " + std::to_string(err));
        if (c.packed) {  // the left half of the output buffer is not ours to touch
            const int HD = c.heads * c.dim_head;
            bool untouched = true;
            for (size_t r = 0; r < pr.o.size() / (2 * HD); r++)
                for (int e = 0; e < HD; e++) untouched &= pr.o[r * 2 * HD + e] == 7.0f;
            check(untouched, isa + " " + describe(c) + ": wrote outside the output view");
        }
    }
    std::printf("%-8s worst relative error over the sweep: %.3g\n", isa.c_str(), worst);
}

// Decoding steps (one query of each head of a group: the kernel's direct path, every group of an element in one
// item, keys and values read block by block) for every group size up to the register block, odd head sizes,
// k and v side by side or apart, with and without qk_norm and a key mask.
void decoding_step_sweep(const std::string &isa) {
    mmca_cpu_set_isa(isa.c_str());
    std::mt19937 rng(4321);
    std::uniform_int_distribution<int> pick(0, 1 << 30);
    double worst = 0;
    for (int R = 1; R <= 6; R++)
        for (int D : {5, 64, 72})
            for (int variant = 0; variant < 4; variant++) {
                Case c{};
                c.kv_heads = 1 + pick(rng) % 4;
                c.heads = R * c.kv_heads;
                c.dim_head = D;
                c.batch = 1 + pick(rng) % 3;
                c.queries = 1;
                c.keys = 1 + pick(rng) % 700;
                c.causal = true;
                c.qk_norm = variant & 1;
                c.key_mask = variant & 2;
                c.grouped = pick(rng) % 2;
                c.cache = pick(rng) % 2;
                c.kv_rows = pick(rng) % 2;
                Problem pr(c, rng);
                mmca_cpu_attention(&pr.p);
                const double err = relative_error(gather_output(pr.p), attention_reference(pr.p));
                worst = std::max(worst, err);
                check(err <= 1e-5, isa + " decoding step " + describe(c) + " kv_rows=" + std::to_string(c.kv_rows) +
                                       ": relative error " + std::to_string(err));
            }
    std::printf("%-8s worst relative error over the decoding steps: %.3g\n", isa.c_str(), worst);
}

void zero_rows_for_hidden_queries() {
    std::mt19937 rng(7);
    Case c{2, 4, 2, 40, 50, 64, true, false, false, true, true, false};
    Problem pr(c, rng);
    mmca_cpu_attention(&pr.p);
    const int HD = c.heads * c.dim_head;
    for (int i = 0; i < c.queries; i++)
        for (int e = 0; e < HD; e++)
            check(pr.o[i * HD + e] == 0.0f, "batch 0 has no visible key: its rows must be exactly zero");
    for (int i = 0; i < c.queries; i++)
        if (!pr.qm[c.queries + i])
            for (int e = 0; e < HD; e++)
                check(pr.o[(c.queries + i) * HD + e] == 0.0f, "a masked query row must be exactly zero");
}

void identical_for_every_thread_count() {
    std::mt19937 rng(99);
    Case c{2, 8, 2, 300, 333, 64, true, false, false, true, false, false};
    Problem pr(c, rng);
    std::vector<float> first;
    for (int threads : {1, 2, 8, 3, 1}) {
        mmca_cpu_set_threads(threads);
        std::fill(pr.o.begin(), pr.o.end(), 0.0f);
        mmca_cpu_attention(&pr.p);
        if (first.empty()) first = pr.o;
        check(std::memcmp(first.data(), pr.o.data(), first.size() * sizeof(float)) == 0,
              "outputs with " + std::to_string(threads) + " threads differ from 1 thread");
    }
    mmca_cpu_set_threads(2);
    // a decoding step: one query over a long, partly filled cache, split into key chunks and merged
    Case step{1, 16, 4, 1, 900, 64, true, false, true, false, false, false, true};
    Problem dec(step, rng);
    first.clear();
    for (int threads : {1, 2, 5}) {
        mmca_cpu_set_threads(threads);
        std::fill(dec.o.begin(), dec.o.end(), 0.0f);
        mmca_cpu_attention(&dec.p);
        if (first.empty()) first = dec.o;
        check(std::memcmp(first.data(), dec.o.data(), first.size() * sizeof(float)) == 0,
              "a split decoding step with " + std::to_string(threads) + " threads differs from 1 thread");
    }
    check(relative_error(gather_output(dec.p), attention_reference(dec.p)) <= 1e-5, "split decoding step parity");
    // finite queries and keys whose dot products overflow float32: the first such row is reported
    for (bool split : {false, true}) {
        Case big = split ? Case{1, 4, 2, 1, 700, 16, false, false, false, false, false, false}
                         : Case{2, 4, 2, 5, 7, 16, false, false, false, false, false, false};
        Problem ov(big, rng);
        const int HD = big.heads * big.dim_head;
        const int b = split ? 0 : 1, i = split ? 0 : 3;  // one row: batch element b, query i, head 0
        for (int d = 0; d < big.dim_head; d++) ov.q[(b * big.queries + i) * HD + d] = 3e38f;
        for (auto &x : ov.k) x = 1.0f;  // every logit of the huge row: 16 * 3e38 * scale, past float32
        const int64_t row = mmca_cpu_attention(&ov.p);
        check(row == static_cast<int64_t>(b) * big.queries + i,
              std::string("overflowed logits are reported") + (split ? " (split)" : "") + ": got " + std::to_string(row));
    }
    mmca_cpu_set_threads(2);
}

}  // namespace

int main() {
    std::vector<std::string> isas = runnable_isas();
    std::printf("paths: ");
    for (auto &s : isas) std::printf("%s ", s.c_str());
    std::printf("(features: %s)\n", mmca_cpu_features());
    for (const std::string &isa : isas) {
        parity_sweep(isa);
        decoding_step_sweep(isa);
        mmca_cpu_set_isa(isa.c_str());
        zero_rows_for_hidden_queries();
        identical_for_every_thread_count();
    }
    std::printf("%s (%d failures)\n", failures() ? "FAILED" : "passed", failures());
    return failures() != 0;
}
