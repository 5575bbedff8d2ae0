/*
 * Test problems and their float64 answer, for kernel_emulation_test (CPU) and device_test (GPU).
 *
 * reference() is SPEC steps 2-5 with the decoding fields of mmca_attention_params, written out
 * directly: query head h reads kv head g(h) (MODULO h % G, GROUPED h / (H / G)); query i of batch
 * element b sees key j iff j < clamp(key_lengths[b], 0, M), key_mask[b][j] != 0 and, when causal,
 * j <= position (query_positions[b][i], or i + M - N); with qk_norm q and k are divided by
 * max(||x||, 1e-12); rows with query_mask 0 or no visible key are zero.
 */
#ifndef MMCA_CUDA_TESTS_REFERENCE_H
#define MMCA_CUDA_TESTS_REFERENCE_H

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mmca/attention_params.h"

namespace mmca_test {

struct Problem {
    int batch = 2, heads = 4, kv_heads = 2, queries = 37, keys = 83, dim_head = 64;
    bool causal = false, qk_norm = false, grouped = false, key_mask = true, query_mask = true;
    bool misaligned = false;      // q, k, v one element past a 16-byte boundary: the kernels' element-wise path
    bool key_lengths = false;     // per-element key lengths (cache rows past them hold NaN)
    bool query_positions = false; // explicit causal positions (some negative: rows that see nothing)
    unsigned seed = 1;
};

inline float half_to_float(__half x) { return __half2float(x); }
inline float bf16_to_float(__nv_bfloat16 x) { return __bfloat162float(x); }
inline float to_f(float x) { return x; }
inline float to_f(__half x) { return half_to_float(x); }
inline float to_f(__nv_bfloat16 x) { return bf16_to_float(x); }

template <typename T> T from_f(float x);
template <> inline float from_f<float>(float x) { return x; }
template <> inline __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> inline __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

template <typename T> constexpr int dtype_of();
template <> constexpr int dtype_of<float>() { return MMCA_DTYPE_F32; }
template <> constexpr int dtype_of<__half>() { return MMCA_DTYPE_F16; }
template <> constexpr int dtype_of<__nv_bfloat16>() { return MMCA_DTYPE_BF16; }

/* One problem's host data: inputs in T (and their exact values as double), masks, lengths, positions. */
template <typename T>
struct Data {
    Problem pr;
    std::vector<T> q, k, v;
    std::vector<double> qd, kd, vd;
    std::vector<uint8_t> kmask, qmask;
    std::vector<int32_t> lengths, positions;

    explicit Data(const Problem &p) : pr(p) {
        std::mt19937 rng(p.seed);
        std::normal_distribution<float> normal;
        const size_t off = p.misaligned ? 1 : 0;
        auto fill = [&](std::vector<T> &t, std::vector<double> &d, size_t n) {
            t.assign(n + off, from_f<T>(NAN));
            d.resize(n);
            for (size_t i = 0; i < n; i++) {
                t[off + i] = from_f<T>(normal(rng));
                d[i] = to_f(t[off + i]);
            }
        };
        const int hd = p.heads * p.dim_head, gd = p.kv_heads * p.dim_head;
        fill(q, qd, (size_t)p.batch * p.queries * hd);
        fill(k, kd, (size_t)p.batch * p.keys * gd);
        fill(v, vd, (size_t)p.batch * p.keys * gd);
        std::bernoulli_distribution keep(0.75);
        kmask.resize((size_t)p.batch * p.keys);
        qmask.resize((size_t)p.batch * p.queries);
        for (auto &x : kmask) x = keep(rng);
        for (auto &x : qmask) x = keep(rng);
        if (p.key_lengths) {
            // Lengths from none to all, beyond the capacity too (clamped); rows past them are garbage.
            std::uniform_int_distribution<int> len(0, p.keys + 3);
            lengths.resize(p.batch);
            for (int b = 0; b < p.batch; b++) lengths[b] = b == 0 ? p.keys : len(rng);
            if (p.batch > 2) lengths[2] = 0;
            for (int b = 0; b < p.batch; b++) {
                for (int j = std::max(0, std::min(lengths[b], p.keys)); j < p.keys; j++) {
                    for (int e = 0; e < gd; e++) {
                        k[off + ((size_t)b * p.keys + j) * gd + e] = from_f<T>(NAN);
                        v[off + ((size_t)b * p.keys + j) * gd + e] = from_f<T>(NAN);
                    }
                }
            }
        }
        if (p.query_positions) {
            // Positions as a decoding step would give them (the last cached keys), with some rows before
            // the first key (negative: they see nothing) and some past the end (clamped).
            std::uniform_int_distribution<int> jitter(-3, 3);
            positions.resize((size_t)p.batch * p.queries);
            for (int b = 0; b < p.batch; b++) {
                const int len = p.key_lengths ? std::max(0, std::min(lengths[b], p.keys)) : p.keys;
                for (int i = 0; i < p.queries; i++) {
                    int pos = len - p.queries + i + jitter(rng);
                    if (i == 0 && b == 1) pos = -1;
                    positions[(size_t)b * p.queries + i] = pos;
                }
            }
        }
    }

    /*
     * Parameters with packed q/k/v (host pointers; device_test substitutes device copies), output at `o`
     * with row stride `o_row_stride`.
     */
    mmca_attention_params params(void *o, int64_t o_row_stride) const {
        mmca_attention_params a;
        std::memset(&a, 0, sizeof a);
        const int d = pr.dim_head, hd = pr.heads * d, gd = pr.kv_heads * d;
        const size_t off = pr.misaligned ? 1 : 0;
        a.q = q.data() + off;
        a.k = k.data() + off;
        a.v = v.data() + off;
        a.o = o;
        a.q_batch_stride = (int64_t)pr.queries * hd; a.q_row_stride = hd; a.q_head_stride = d;
        a.k_batch_stride = (int64_t)pr.keys * gd; a.k_row_stride = gd; a.k_head_stride = d;
        a.v_batch_stride = (int64_t)pr.keys * gd; a.v_row_stride = gd; a.v_head_stride = d;
        a.o_batch_stride = (int64_t)pr.queries * o_row_stride; a.o_row_stride = o_row_stride; a.o_head_stride = d;
        a.key_mask = pr.key_mask ? kmask.data() : nullptr;
        a.key_mask_batch_stride = pr.keys;
        a.query_mask = pr.query_mask ? qmask.data() : nullptr;
        a.query_mask_batch_stride = pr.queries;
        a.batch = pr.batch; a.heads = pr.heads; a.kv_heads = pr.kv_heads;
        a.queries = pr.queries; a.keys = pr.keys; a.dim_head = d;
        a.scale = pr.qk_norm ? 10.0f : 1.0f / std::sqrt((float)d);
        a.causal = pr.causal; a.qk_norm = pr.qk_norm;
        a.head_mapping = pr.grouped ? MMCA_HEAD_MAPPING_GROUPED : MMCA_HEAD_MAPPING_MODULO;
        a.dtype = dtype_of<T>();
        a.key_lengths = pr.key_lengths ? lengths.data() : nullptr;
        a.query_positions = pr.query_positions ? positions.data() : nullptr;
        a.query_positions_batch_stride = pr.queries;
        return a;
    }

    /* The float64 answer, [batch, queries, heads * dim_head]. */
    std::vector<double> reference() const {
        const Problem &p = pr;
        const int d = p.dim_head, hd = p.heads * d, gd = p.kv_heads * d;
        std::vector<double> out((size_t)p.batch * p.queries * hd, 0.0);
        // SPEC step 3: with qk_norm, every head vector divided by max(||x||, 1e-12) (keys once, here).
        auto normalise = [&](double *x) {
            if (!p.qk_norm) return;
            double s = 0;
            for (int e = 0; e < d; e++) s += x[e] * x[e];
            const double n = std::max(std::sqrt(s), 1e-12);
            for (int e = 0; e < d; e++) x[e] /= n;
        };
        std::vector<double> kn = kd;
        for (size_t r = 0; r < kn.size() / d; r++) normalise(&kn[r * d]);
        const double scale = p.qk_norm ? 10.0 : 1.0 / std::sqrt((double)d);
        std::vector<double> qi(d), logit(p.keys);
        std::vector<char> vis(p.keys);
        for (int b = 0; b < p.batch; b++) {
            const int limit = p.key_lengths ? std::max(0, std::min(lengths[b], p.keys)) : p.keys;
            for (int h = 0; h < p.heads; h++) {
                const int g = p.grouped ? h / (p.heads / p.kv_heads) : h % p.kv_heads;  // SPEC step 2
                for (int i = 0; i < p.queries; i++) {
                    if (p.query_mask && !qmask[(size_t)b * p.queries + i]) continue;  // masked row: zeros
                    const long long pos = p.query_positions ? positions[(size_t)b * p.queries + i]
                                                            : (long long)i + (p.keys - p.queries);
                    std::copy_n(&qd[((size_t)b * p.queries + i) * hd + h * d], d, qi.begin());
                    normalise(qi.data());
                    double mx = -INFINITY;
                    for (int j = 0; j < p.keys; j++) {  // SPEC step 4 with the key limit and positions
                        vis[j] = j < limit && (!p.key_mask || kmask[(size_t)b * p.keys + j]) && (!p.causal || j <= pos);
                        if (!vis[j]) continue;
                        const double *kj = &kn[((size_t)b * p.keys + j) * gd + g * d];
                        double dot = 0;
                        for (int e = 0; e < d; e++) dot += qi[e] * kj[e];
                        logit[j] = scale * dot;
                        mx = std::max(mx, logit[j]);
                    }
                    if (mx == -INFINITY) continue;  // no visible key: zeros
                    double sum = 0;
                    for (int j = 0; j < p.keys; j++) {
                        if (vis[j]) sum += std::exp(logit[j] - mx);
                    }
                    double *o = &out[((size_t)b * p.queries + i) * hd + h * d];
                    for (int j = 0; j < p.keys; j++) {  // SPEC step 5
                        if (!vis[j]) continue;
                        const double w = std::exp(logit[j] - mx) / sum;
                        const double *vj = &vd[((size_t)b * p.keys + j) * gd + g * d];
                        for (int e = 0; e < d; e++) o[e] += w * vj[e];
                    }
                }
            }
        }
        return out;
    }
};

/*
 * ||out - ref|| / ||ref|| over the `width`-wide slice at `offset` of rows of `row_stride` elements;
 * inf when any element is not finite (NaN-poisoned outputs that a kernel forgot to write).
 */
template <typename T>
double relative_error(const std::vector<T> &out, int64_t row_stride, int64_t offset, const std::vector<double> &ref,
                      int width) {
    double num = 0, den = 0;
    const size_t rows = ref.size() / width;
    for (size_t r = 0; r < rows; r++) {
        for (int c = 0; c < width; c++) {
            const double o = to_f(out[r * row_stride + offset + c]);
            if (!std::isfinite(o)) return INFINITY;
            const double x = ref[r * width + c];
            num += (o - x) * (o - x);
            den += x * x;
        }
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

/* Whether the `n` elements at `from` still hold the NaN poison (nothing was written past the output). */
template <typename T>
bool still_poisoned(const std::vector<T> &buf, size_t from, size_t n) {
    for (size_t i = from; i < from + n && i < buf.size(); i++) {
        if (!std::isnan(to_f(buf[i]))) return false;
    }
    return true;
}

}  // namespace mmca_test

#endif
