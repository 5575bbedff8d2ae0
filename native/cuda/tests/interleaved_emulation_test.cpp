// Runs the real interleaved attention kernel (interleaved_exact.cuh) on the CPU through the emulation in
// tests/emulation, and compares it with a float64 implementation of SPEC "Interleaved MMCA" written from its
// definitions: runs of text, image and padding, both image rules, both head mappings, qk_norm, a partly filled
// cache (key lengths and query positions), every storage type, head dims on both sides of a tile. Outputs start as
// NaN, so an element the kernel forgets to write fails the comparison. No GPU needed.
#include "cuda_emulation.h"  // must come first: turns CUDA qualifiers into plain C++

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "interleaved_exact.cuh"

namespace mmca_cuda {
alignas(128) char smem[256 * 1024];  // the kernel's extern __shared__ buffer
}

namespace {

int failures = 0;

struct Problem {
    int batch = 2, heads = 4, kv_heads = 2, tokens = 77, dim_head = 64;
    bool qk_norm = false, grouped = false, block = false;
    bool cache = false;  // `tokens` cached keys with a length per element, 5 queries at given positions
    unsigned seed = 1;
};

template <typename T> T from_f(float x);
template <> float from_f<float>(float x) { return x; }
template <> __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

template <typename T> constexpr int dtype_of();
template <> constexpr int dtype_of<float>() { return MMCA_DTYPE_F32; }
template <> constexpr int dtype_of<__half>() { return MMCA_DTYPE_F16; }
template <> constexpr int dtype_of<__nv_bfloat16>() { return MMCA_DTYPE_BF16; }

template <typename T>
struct Data {
    Problem pr;
    int queries, keys;
    std::vector<T> q, k, v, o;
    std::vector<double> qd, kd, vd;
    std::vector<uint8_t> mod;
    std::vector<int32_t> lengths, positions;

    explicit Data(const Problem &p) : pr(p) {
        std::mt19937 rng(p.seed);
        std::normal_distribution<float> normal;
        keys = p.tokens;
        queries = p.cache ? 5 : p.tokens;
        auto fill = [&](std::vector<T> &t, std::vector<double> &d, size_t n) {
            t.resize(n);
            d.resize(n);
            for (size_t i = 0; i < n; i++) {
                t[i] = from_f<T>(normal(rng));
                d[i] = emu::to_f(t[i]);
            }
        };
        const int hd = p.heads * p.dim_head, gd = p.kv_heads * p.dim_head;
        fill(q, qd, (size_t)p.batch * queries * hd);
        fill(k, kd, (size_t)p.batch * keys * gd);
        fill(v, vd, (size_t)p.batch * keys * gd);
        o.assign((size_t)p.batch * queries * hd, from_f<T>(NAN));
        mod.resize((size_t)p.batch * keys);
        for (int b = 0; b < p.batch; b++) {
            int j = 0;
            while (j < keys) {
                const int r = (int)(rng() % 10);
                const uint8_t kind = r < 1 ? 0 : (r < 5 ? 1 : 2);
                const int len = 1 + (int)(rng() % (kind == 2 ? 30 : 7));
                for (int e = 0; e < len && j < keys; e++, j++) mod[(size_t)b * keys + j] = kind;
            }
        }
        if (p.cache) {
            lengths.resize(p.batch);
            positions.resize((size_t)p.batch * queries);
            for (int b = 0; b < p.batch; b++) {
                lengths[b] = b == 1 ? keys + 2 : (int)(rng() % (keys + 1));
                const int len = std::min(lengths[b], keys);
                for (int i = 0; i < queries; i++) positions[(size_t)b * queries + i] = i == 0 ? -1 : len - queries + i;
            }
        }
    }

    mmca_interleaved_params params() {
        mmca_interleaved_params ip;
        std::memset(&ip, 0, sizeof ip);
        mmca_attention_params &a = ip.attention;
        const int d = pr.dim_head, hd = pr.heads * d, gd = pr.kv_heads * d;
        a.q = q.data();
        a.k = k.data();
        a.v = v.data();
        a.o = o.data();
        a.q_batch_stride = (int64_t)queries * hd; a.q_row_stride = hd; a.q_head_stride = d;
        a.k_batch_stride = (int64_t)keys * gd; a.k_row_stride = gd; a.k_head_stride = d;
        a.v_batch_stride = (int64_t)keys * gd; a.v_row_stride = gd; a.v_head_stride = d;
        a.o_batch_stride = (int64_t)queries * hd; a.o_row_stride = hd; a.o_head_stride = d;
        a.batch = pr.batch; a.heads = pr.heads; a.kv_heads = pr.kv_heads;
        a.queries = queries; a.keys = keys; a.dim_head = d;
        a.scale = pr.qk_norm ? 10.0f : 1.0f / std::sqrt((float)d);
        a.causal = 1; a.qk_norm = pr.qk_norm;
        a.head_mapping = pr.grouped ? MMCA_HEAD_MAPPING_GROUPED : MMCA_HEAD_MAPPING_MODULO;
        a.dtype = dtype_of<T>();
        if (pr.cache) {
            a.key_lengths = lengths.data();
            a.query_positions = positions.data();
            a.query_positions_batch_stride = queries;
        }
        ip.modality = mod.data();
        ip.modality_batch_stride = keys;
        ip.image_rule = pr.block ? MMCA_IMAGE_RULE_BLOCK : MMCA_IMAGE_RULE_SELF;
        return ip;
    }

    std::vector<double> head(const std::vector<double> &x, int rows, int nh, int b, int row, int h) const {
        const int d = pr.dim_head;
        std::vector<double> r(x.begin() + (((size_t)b * rows + row) * nh + h) * d,
                              x.begin() + (((size_t)b * rows + row) * nh + h) * d + d);
        return r;
    }

    std::vector<double> normed(std::vector<double> r) const {
        if (!pr.qk_norm) return r;
        double s = 0;
        for (double e : r) s += e * e;
        const double n = std::max(std::sqrt(s), 1e-12);
        for (double &e : r) e /= n;
        return r;
    }

    /* The groups of every real query from their definitions, one softmax each, added; [batch, queries, H * D]. */
    std::vector<double> reference() const {
        const Problem &p = pr;
        const int d = p.dim_head, hd = p.heads * d;
        std::vector<double> out((size_t)p.batch * queries * hd, 0.0);
        const double scale = p.qk_norm ? 10.0 : 1.0 / std::sqrt((double)d);
        for (int b = 0; b < p.batch; b++) {
            const int len = p.cache ? std::min(lengths[b], keys) : keys;
            auto t = [&](int j) { return mod[(size_t)b * keys + j]; };
            for (int i = 0; i < queries; i++) {
                const int pos = p.cache ? positions[(size_t)b * queries + i] : i;
                const int kind = pos >= 0 && pos < len ? t(pos) : 0;
                if (kind == 0) continue;
                std::vector<bool> in_t(len), in_i(len);
                for (int j = 0; j < len; j++) {
                    if (kind == 1 || !p.block) {
                        in_t[j] = t(j) == 1 && j <= pos;
                        in_i[j] = kind == 1 ? t(j) == 2 && j <= pos : j == pos;
                    } else if (t(j) == 2) {
                        bool between = false;
                        for (int x = std::min(j, pos) + 1; x < std::max(j, pos); x++) between |= t(x) == 1;
                        in_i[j] = !between;
                    }
                }
                for (int h = 0; h < p.heads; h++) {
                    const int g = p.grouped ? h / (p.heads / p.kv_heads) : h % p.kv_heads;
                    const std::vector<double> qi = normed(head(qd, queries, p.heads, b, i, h));
                    for (const auto *group : {&in_t, &in_i}) {
                        std::vector<double> s(len, -INFINITY);
                        double mx = -INFINITY;
                        for (int j = 0; j < len; j++) {
                            if (!(*group)[j]) continue;
                            const std::vector<double> kj = normed(head(kd, keys, p.kv_heads, b, j, g));
                            double dot = 0;
                            for (int e = 0; e < d; e++) dot += qi[e] * kj[e];
                            s[j] = scale * dot;
                            mx = std::max(mx, s[j]);
                        }
                        if (mx == -INFINITY) continue;
                        double sum = 0;
                        for (int j = 0; j < len; j++) sum += (*group)[j] ? std::exp(s[j] - mx) : 0.0;
                        for (int j = 0; j < len; j++) {
                            if (!(*group)[j]) continue;
                            const std::vector<double> vj = head(vd, keys, p.kv_heads, b, j, g);
                            const double w = std::exp(s[j] - mx) / sum;
                            for (int e = 0; e < d; e++) out[((size_t)b * queries + i) * hd + h * d + e] += w * vj[e];
                        }
                    }
                }
            }
        }
        return out;
    }
};

template <typename T>
double relative_error(const std::vector<T> &out, const std::vector<double> &ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        const double o = emu::to_f(out[i]);
        if (!std::isfinite(o)) return INFINITY;
        num += (o - ref[i]) * (o - ref[i]);
        den += ref[i] * ref[i];
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

void report(const std::string &name, double err, double tol) {
    const bool ok = err <= tol;
    std::printf("%s %-70s relative error %.3g (bound %.0e)\n", ok ? "ok  " : "FAIL", name.c_str(), err, tol);
    if (!ok) failures++;
}

template <typename T, int D>
void run(const char *kind, Problem p, double tol) {
    using namespace mmca_cuda;
    p.dim_head = D;
    Data<T> data(p);
    mmca_interleaved_params ip = data.params();
    const dim3 grid((data.queries + InterleavedShape::kRows - 1) / InterleavedShape::kRows, p.heads, p.batch);
    static_assert(interleaved_smem_bytes<D>() <= sizeof(smem), "shared memory of the emulation");
    emu::launch(grid, InterleavedShape::kThreads, smem, interleaved_smem_bytes<D>(),
                [&] { interleaved_exact_kernel<T, D>(ip); });
    char name[200];
    std::snprintf(name, sizeof name, "%s D=%d N=%d rule=%s qk_norm=%d %s%s", kind, D, p.tokens,
                  p.block ? "block" : "self", p.qk_norm, p.grouped ? "grouped" : "modulo", p.cache ? " cache" : "");
    report(name, relative_error(data.o, data.reference()), tol);
    // padding rows are exactly zero
    bool zero = true;
    const int hd = p.heads * D;
    for (int b = 0; b < p.batch; b++) {
        const int len = p.cache ? std::min(data.lengths[b], data.keys) : data.keys;
        for (int i = 0; i < data.queries; i++) {
            const int pos = p.cache ? data.positions[(size_t)b * data.queries + i] : i;
            if (pos >= 0 && pos < len && data.mod[(size_t)b * data.keys + pos] != 0) continue;
            for (int e = 0; e < hd; e++) zero &= emu::to_f(data.o[((size_t)b * data.queries + i) * hd + e]) == 0.0f;
        }
    }
    if (!zero) {
        std::printf("FAIL %s: a padding row is not zero\n", name);
        failures++;
    }
}

/*
 * A group whose every score is -inf (q = 1e20 against k = -1e20 in column 0 of head 0: q.k about -1e40) is an
 * overflow even beside a finite group: the kernel writes that row as NaN (the host reports it) and every other row
 * finite; -inf scores beside finite ones in a group are harmless. Element 1 is text 0-29, image 30-59, text 60-76.
 * `text`: the text keys up to 60 score -inf for text query 60 (its text group is lost, its image group finite) and
 * for text query 70 (which also sees finite text keys 61-70). Else the image keys and key 0 score -inf: for image
 * query 45, whose image group (the run) is lost under rule block, while under rule self its image group is its own
 * value and its text group finite beside key 0; under rule self, text query 60's image group is lost instead.
 */
void overflow_downwards(bool block, bool text) {
    using namespace mmca_cuda;
    constexpr int D = 32;
    Problem p;
    p.dim_head = D;
    p.block = block;
    Data<float> data(p);
    const int hd = p.heads * D, gd = p.kv_heads * D;
    uint8_t *mod = data.mod.data() + data.keys;
    for (int j = 0; j < data.keys; j++) mod[j] = j < 30 || j >= 60 ? 1 : 2;
    auto q_at = [&](int i) -> float & { return data.q[((size_t)data.queries + i) * hd]; };
    auto k_at = [&](int j) -> float & { return data.k[((size_t)data.keys + j) * gd]; };
    for (int j = 0; j < data.keys; j++) {
        if (text ? mod[j] == 1 && j <= 60 : mod[j] == 2 || j == 0) k_at(j) = -1e20f;
    }
    if (text) {
        q_at(60) = q_at(70) = 1e20f;
    } else {
        q_at(45) = 1e20f;
        if (!block) q_at(60) = 1e20f;
    }
    mmca_interleaved_params ip = data.params();
    const dim3 grid((data.queries + InterleavedShape::kRows - 1) / InterleavedShape::kRows, p.heads, p.batch);
    emu::launch(grid, InterleavedShape::kThreads, smem, interleaved_smem_bytes<D>(),
                [&] { interleaved_exact_kernel<float, D>(ip); });
    const int lost = text || !block ? 60 : 45;
    bool ok = true;
    for (int b = 0; b < p.batch; b++) {
        for (int i = 0; i < data.queries; i++) {
            for (int h = 0; h < p.heads; h++) {
                const bool want_nan = b == 1 && i == lost && h == 0;
                for (int e = 0; e < D; e++) {
                    const float o = data.o[(((size_t)b * data.queries + i) * p.heads + h) * D + e];
                    ok &= want_nan ? std::isnan(o) : std::isfinite(o);
                }
            }
        }
    }
    char name[160];
    std::snprintf(name, sizeof name, "fp32 D=%d rule=%s: every %s score of one group -inf -> NaN at query %d only", D,
                  block ? "block" : "self", text ? "text" : "image", lost);
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", name);
    if (!ok) failures++;
}

}  // namespace

int main() {
    for (bool block : {false, true}) {
        overflow_downwards(block, true);
        overflow_downwards(block, false);
    }
    Problem p;
    run<float, 32>("fp32", p, 1e-5);
    p.block = true;
    run<float, 32>("fp32", p, 1e-5);
    p.grouped = true;
    p.qk_norm = true;
    p.tokens = 45;
    run<float, 80>("fp32", p, 1e-5);
    p.block = false;
    run<float, 80>("fp32", p, 1e-5);
    Problem c;
    c.cache = true;
    c.tokens = 90;
    run<float, 64>("fp32", c, 1e-5);
    c.block = true;
    c.seed = 3;
    run<float, 128>("fp32", c, 1e-5);
    Problem h;
    h.tokens = 40;
    h.seed = 5;
    run<__half, 64>("fp16", h, 1e-2);
    h.block = true;
    run<__nv_bfloat16, 96>("bf16", h, 1e-2);
    std::printf(failures == 0 ? "interleaved_emulation_test: all checks passed\n"
                              : "interleaved_emulation_test: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
