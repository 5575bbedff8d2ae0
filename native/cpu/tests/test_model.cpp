// The whole SimpleMMCA forward over packed weights against a double-precision composition of the
// SPEC formulas (both compositions, masks, qk_norm, both mappings, Nv != Nt).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "reference.h"

using namespace mmca::test;

namespace {

using Mat = std::vector<double>;  // row-major

struct Cfg {
    int dim, heads, kv_heads, dim_head;
    bool causal, qk_norm, seed, grouped;
};

struct Block {
    std::vector<float> q, k, v, o;
};

// y[rows, out] = x[rows, in] * W[out, in]^T
Mat linear(const Mat &x, const std::vector<float> &w, int rows, int in, int out) {
    Mat y(static_cast<size_t>(rows) * out, 0.0);
    for (int r = 0; r < rows; r++)
        for (int o = 0; o < out; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) s += x[static_cast<size_t>(r) * in + i] * w[static_cast<size_t>(o) * in + i];
            y[static_cast<size_t>(r) * out + o] = s;
        }
    return y;
}

// SPEC "One grouped-query attention block" for one batch element, in double.
Mat mgqa(const Cfg &c, const Block &w, const Mat &x, int n, const Mat *ctx, int m, const uint8_t *mask,
         const uint8_t *ctx_mask, bool causal) {
    const int D = c.dim_head, H = c.heads, G = c.kv_heads;
    const Mat &kv = ctx ? *ctx : x;
    const uint8_t *km = ctx ? ctx_mask : mask;
    Mat q = linear(x, w.q, n, c.dim, H * D), k = linear(kv, w.k, m, c.dim, G * D), v = linear(kv, w.v, m, c.dim, G * D);
    auto norm = [&](double *a) {
        double s = 0;
        for (int d = 0; d < D; d++) s += a[d] * a[d];
        double f = 1 / std::max(std::sqrt(s), 1e-12);
        for (int d = 0; d < D; d++) a[d] *= f;
    };
    if (c.qk_norm) {
        for (int i = 0; i < n; i++)
            for (int h = 0; h < H; h++) norm(&q[(static_cast<size_t>(i) * H + h) * D]);
        for (int j = 0; j < m; j++)
            for (int g = 0; g < G; g++) norm(&k[(static_cast<size_t>(j) * G + g) * D]);
    }
    const double scale = c.qk_norm ? 10.0 : 1.0 / std::sqrt(static_cast<double>(D));
    Mat o(static_cast<size_t>(n) * H * D, 0.0);
    for (int h = 0; h < H; h++) {
        const int g = c.grouped ? h / (H / G) : h % G;
        for (int i = 0; i < n; i++) {
            std::vector<double> s(m, -std::numeric_limits<double>::infinity());
            double mx = s[0];
            for (int j = 0; j < m; j++) {
                if ((km && !km[j]) || (causal && j > i + (m - n))) continue;
                double dot = 0;
                for (int d = 0; d < D; d++) dot += q[(static_cast<size_t>(i) * H + h) * D + d] * k[(static_cast<size_t>(j) * G + g) * D + d];
                s[j] = scale * dot;
                mx = std::max(mx, s[j]);
            }
            if (mx == -std::numeric_limits<double>::infinity()) continue;
            double sum = 0;
            for (int j = 0; j < m; j++) sum += std::exp(s[j] - mx);
            for (int j = 0; j < m; j++) {
                double p = std::exp(s[j] - mx) / sum;
                for (int d = 0; d < D; d++) o[(static_cast<size_t>(i) * H + h) * D + d] += p * v[(static_cast<size_t>(j) * G + g) * D + d];
            }
        }
    }
    Mat out = linear(o, w.o, n, H * D, c.dim);
    for (int i = 0; i < n; i++)
        if (mask && !mask[i]) std::fill(out.begin() + static_cast<size_t>(i) * c.dim, out.begin() + static_cast<size_t>(i + 1) * c.dim, 0.0);
    return out;
}

Block random_block(const Cfg &c, std::mt19937 &rng) {
    auto scaled = [&](size_t n, int in) {
        std::vector<float> w = normal(rng, n);
        for (float &x : w) x /= std::sqrt(static_cast<float>(in));
        return w;
    };
    const size_t hd = static_cast<size_t>(c.heads) * c.dim_head, gd = static_cast<size_t>(c.kv_heads) * c.dim_head;
    return Block{scaled(hd * c.dim, c.dim), scaled(gd * c.dim, c.dim), scaled(gd * c.dim, c.dim), scaled(hd * c.dim, static_cast<int>(hd))};
}

void check_model(const Cfg &c, int batch, int nv, int nt, bool masks, unsigned seed) {
    std::mt19937 rng(seed);
    Block vis = random_block(c, rng), txt = random_block(c, rng), crs = random_block(c, rng);
    mmca_cpu_model_desc d{c.dim, c.heads, c.kv_heads, c.dim_head, c.causal, c.qk_norm,
                          c.seed ? MMCA_COMPOSITION_SEED : MMCA_COMPOSITION_CROSS,
                          c.grouped ? MMCA_HEAD_MAPPING_GROUPED : MMCA_HEAD_MAPPING_MODULO,
                          vis.q.data(), vis.k.data(), vis.v.data(), vis.o.data(),
                          txt.q.data(), txt.k.data(), txt.v.data(), txt.o.data(),
                          crs.q.data(), crs.k.data(), crs.v.data(), crs.o.data()};
    mmca_cpu_model *model = mmca_cpu_model_create(&d);
    std::vector<float> v = normal(rng, static_cast<size_t>(batch) * nv * c.dim);
    std::vector<float> t = normal(rng, static_cast<size_t>(batch) * nt * c.dim);
    std::vector<uint8_t> vm(static_cast<size_t>(batch) * nv, 1), tm(static_cast<size_t>(batch) * nt, 1);
    if (masks) {
        for (int j = 0; j < nv; j++) vm[j] = 0;                          // batch 0: every visual token padded
        for (int i = nt - nt / 3; i < nt; i++) tm[static_cast<size_t>(nt) * (batch - 1) + i] = 0;
        for (int j = 1; j < nv; j += 2) vm[static_cast<size_t>(nv) * (batch - 1) + j] = 0;
    }
    std::vector<float> vout(v.size(), 9.0f), tout(t.size(), 9.0f);
    mmca_cpu_model_forward(model, v.data(), t.data(), masks ? vm.data() : nullptr, masks ? tm.data() : nullptr,
                           vout.data(), tout.data(), batch, nv, nt);
    Mat ref_v, ref_t, got_v(vout.begin(), vout.end()), got_t(tout.begin(), tout.end());
    for (int b = 0; b < batch; b++) {
        Mat vb(v.begin() + static_cast<size_t>(b) * nv * c.dim, v.begin() + static_cast<size_t>(b + 1) * nv * c.dim);
        Mat tb(t.begin() + static_cast<size_t>(b) * nt * c.dim, t.begin() + static_cast<size_t>(b + 1) * nt * c.dim);
        const uint8_t *vmb = masks ? vm.data() + static_cast<size_t>(b) * nv : nullptr;
        const uint8_t *tmb = masks ? tm.data() + static_cast<size_t>(b) * nt : nullptr;
        Mat visual, text;
        if (!c.seed) {
            visual = mgqa(c, vis, vb, nv, nullptr, nv, vmb, nullptr, false);
            Mat self = mgqa(c, txt, tb, nt, nullptr, nt, tmb, nullptr, c.causal);
            Mat cross = mgqa(c, crs, tb, nt, &visual, nv, tmb, vmb, false);
            text = self;
            for (size_t i = 0; i < text.size(); i++) text[i] += cross[i];
        } else {
            visual = mgqa(c, vis, vb, nv, nullptr, nv, vmb, nullptr, c.causal);
            Mat self = mgqa(c, txt, tb, nt, nullptr, nt, tmb, nullptr, c.causal);
            Mat sum = tb;
            for (size_t i = 0; i < sum.size(); i++) sum[i] += visual[i];
            Mat cross = mgqa(c, crs, sum, nt, nullptr, nt, tmb, nullptr, c.causal);
            text = self;
            for (size_t i = 0; i < text.size(); i++) text[i] += cross[i];
        }
        ref_v.insert(ref_v.end(), visual.begin(), visual.end());
        ref_t.insert(ref_t.end(), text.begin(), text.end());
    }
    double ev = relative_error(got_v, ref_v), et = relative_error(got_t, ref_t);
    char what[200];
    std::snprintf(what, sizeof what, "dim=%d H=%d G=%d D=%d causal=%d qkNorm=%d seed=%d grouped=%d B=%d Nv=%d Nt=%d masks=%d: visual %.3g text %.3g",
                  c.dim, c.heads, c.kv_heads, c.dim_head, c.causal, c.qk_norm, c.seed, c.grouped, batch, nv, nt, masks, ev, et);
    std::printf("%s\n", what);
    check(ev <= 1e-5 && et <= 1e-5, what);
    mmca_cpu_model_free(model);
}

}  // namespace

int main() {
    check_model({48, 4, 2, 16, true, false, false, false}, 2, 13, 9, true, 1);
    check_model({40, 6, 3, 80, true, true, false, true}, 3, 7, 11, true, 2);
    check_model({32, 4, 1, 8, true, false, true, false}, 2, 10, 10, true, 3);
    check_model({32, 8, 4, 16, false, true, true, true}, 1, 21, 21, false, 4);
    check_model({64, 1, 1, 64, true, false, false, false}, 1, 1, 1, false, 5);
    std::printf("%s (%d failures)\n", failures() ? "FAILED" : "passed", failures());
    return failures() != 0;
}
