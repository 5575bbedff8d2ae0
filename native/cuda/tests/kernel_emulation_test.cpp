// Runs the real attention kernels (attention_exact.cuh, attention_tc.cuh) on the CPU through the
// emulation in tests/emulation, and compares them with a float64 implementation of SPEC steps 2-5:
// sizes that are not multiples of any tile, causal offsets in both directions, key and query masks,
// both head mappings, qk_norm, and the fused text operation. Outputs start as NaN, so an element a
// kernel forgets to write fails the comparison. No GPU needed.
#include "cuda_emulation.h"  // must come first: turns CUDA qualifiers into plain C++

#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "attention_exact.cuh"
#include "attention_tc.cuh"

namespace mmca_cuda {
alignas(128) char smem[256 * 1024];  // the kernels' extern __shared__ buffer
}

namespace {

int failures = 0;

struct Problem {
    int batch = 2, heads = 4, kv_heads = 2, queries = 37, keys = 83, dim_head = 64;
    bool causal = false, qk_norm = false, grouped = false, key_mask = true, query_mask = true;
    bool misaligned = false;  // q, k, v one element past a 16-byte boundary: the kernels' element-wise load path
    unsigned seed = 1;
};

template <typename T> T from_f(float x);
template <> float from_f<float>(float x) { return x; }
template <> __half from_f<__half>(float x) { return __float2half_rn(x); }
template <> __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16_rn(x); }

/* One problem's host data: inputs in T (and their exact values as double), masks, NaN-filled output. */
template <typename T>
struct Data {
    Problem pr;
    std::vector<T> q, k, v;
    std::vector<double> qd, kd, vd;
    std::vector<uint8_t> kmask, qmask;

    explicit Data(const Problem &p) : pr(p) {
        std::mt19937 rng(p.seed);
        std::normal_distribution<float> normal;
        const size_t off = p.misaligned ? 1 : 0;
        auto fill = [&](std::vector<T> &t, std::vector<double> &d, size_t n) {
            t.assign(n + off, from_f<T>(NAN));
            d.resize(n);
            for (size_t i = 0; i < n; i++) {
                t[off + i] = from_f<T>(normal(rng));
                d[i] = emu::to_f(t[off + i]);
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
    }

    /* Parameters with packed q/k/v and an output of row stride `o_row_stride` at `o`. */
    mmca_attention_params params(void *o, int64_t o_row_stride, int dtype) const {
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
        a.dtype = dtype;
        return a;
    }

    /* SPEC steps 2-5 in float64; [batch, queries, heads * dim_head]. */
    std::vector<double> reference() const {
        const Problem &p = pr;
        const int d = p.dim_head, hd = p.heads * d, gd = p.kv_heads * d;
        std::vector<double> out((size_t)p.batch * p.queries * hd, 0.0);
        auto normed = [&](const double *x) {
            std::vector<double> r(x, x + d);
            if (p.qk_norm) {
                double s = 0;
                for (double e : r) s += e * e;
                double n = std::max(std::sqrt(s), 1e-12);
                for (double &e : r) e /= n;
            }
            return r;
        };
        const double scale = p.qk_norm ? 10.0 : 1.0 / std::sqrt((double)d);
        for (int b = 0; b < p.batch; b++) {
            for (int h = 0; h < p.heads; h++) {
                const int g = p.grouped ? h / (p.heads / p.kv_heads) : h % p.kv_heads;
                for (int i = 0; i < p.queries; i++) {
                    if (p.query_mask && !qmask[(size_t)b * p.queries + i]) continue;
                    std::vector<double> qi = normed(&qd[((size_t)b * p.queries + i) * hd + h * d]);
                    std::vector<double> logit(p.keys);
                    std::vector<bool> vis(p.keys);
                    double mx = -INFINITY;
                    for (int j = 0; j < p.keys; j++) {
                        vis[j] = (!p.key_mask || kmask[(size_t)b * p.keys + j]) && (!p.causal || j <= i + (p.keys - p.queries));
                        if (!vis[j]) continue;
                        std::vector<double> kj = normed(&kd[((size_t)b * p.keys + j) * gd + g * d]);
                        double dot = 0;
                        for (int e = 0; e < d; e++) dot += qi[e] * kj[e];
                        logit[j] = scale * dot;
                        mx = std::max(mx, logit[j]);
                    }
                    if (mx == -INFINITY) continue;
                    double sum = 0;
                    for (int j = 0; j < p.keys; j++) if (vis[j]) sum += std::exp(logit[j] - mx);
                    for (int j = 0; j < p.keys; j++) {
                        if (!vis[j]) continue;
                        double w = std::exp(logit[j] - mx) / sum;
                        for (int e = 0; e < d; e++) {
                            out[((size_t)b * p.queries + i) * hd + h * d + e] += w * vd[((size_t)b * p.keys + j) * gd + g * d + e];
                        }
                    }
                }
            }
        }
        return out;
    }
};

/* ||out - ref|| / ||ref|| over the `width`-wide slice at `offset` of rows of `row_stride` elements; NaN -> inf. */
template <typename T>
double relative_error(const std::vector<T> &out, int64_t row_stride, int64_t offset, const std::vector<double> &ref, int width) {
    double num = 0, den = 0;
    const size_t rows = ref.size() / width;
    for (size_t r = 0; r < rows; r++) {
        for (int c = 0; c < width; c++) {
            double o = emu::to_f(out[r * row_stride + offset + c]);
            if (!std::isfinite(o)) return INFINITY;
            double x = ref[r * width + c];
            num += (o - x) * (o - x);
            den += x * x;
        }
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

template <typename T> constexpr int dtype_of();
template <> constexpr int dtype_of<float>() { return MMCA_DTYPE_F32; }
template <> constexpr int dtype_of<__half>() { return MMCA_DTYPE_F16; }
template <> constexpr int dtype_of<__nv_bfloat16>() { return MMCA_DTYPE_BF16; }

template <typename T, int D>
void launch(bool exact, const mmca_text_params &tp, int nproblems) {
    using namespace mmca_cuda;
    if (exact) {
        dim3 grid((tp.self.queries + ExactShape::kRows - 1) / ExactShape::kRows, tp.self.heads, tp.self.batch);
        emu::launch(grid, ExactShape::kThreads, smem, exact_smem_bytes<D>(), [&] { exact_attention_kernel<D>(tp, nproblems); });
    } else {
        using L = TcLayout<T, D>;
        static_assert(L::kBytes <= sizeof(smem), "shared memory of the emulation");
        dim3 grid((tp.self.queries + L::kRows - 1) / L::kRows, tp.self.heads, tp.self.batch);
        emu::launch(grid, L::kThreads, smem, L::kBytes, [&] { tc_attention_kernel<T, D>(tp, nproblems); });
    }
}

void report(const std::string &name, double err, double tol) {
    bool ok = err <= tol;
    std::printf("%s %-58s relative error %.3g (bound %.0e)\n", ok ? "ok  " : "FAIL", name.c_str(), err, tol);
    if (!ok) failures++;
}

template <typename T, int D>
void single(const char *kind, bool exact, Problem p, double tol) {
    p.dim_head = D;
    Data<T> data(p);
    const int hd = p.heads * D;
    std::vector<T> out((size_t)p.batch * p.queries * hd, from_f<T>(NAN));
    mmca_text_params tp;
    tp.self = data.params(out.data(), hd, dtype_of<T>());
    tp.cross = tp.self;
    launch<T, D>(exact, tp, 1);
    char name[200];
    std::snprintf(name, sizeof name, "%s D=%d N=%d M=%d causal=%d qk_norm=%d %s%s", kind, D, p.queries, p.keys,
                  p.causal, p.qk_norm, p.grouped ? "grouped" : "modulo", p.misaligned ? " misaligned" : "");
    report(name, relative_error(out, hd, 0, data.reference(), hd), tol);
}

template <typename T, int D>
void text(const char *kind, bool exact, double tol) {
    Problem self, cross;
    self.dim_head = cross.dim_head = D;
    self.causal = true;
    self.queries = self.keys = cross.queries = 45;
    cross.keys = 70;
    cross.seed = 2;
    cross.grouped = self.grouped = true;
    Data<T> a(self), c(cross);
    c.qmask = a.qmask;  // one query mask for both, as in the model
    const int hd = self.heads * D;
    std::vector<T> out((size_t)self.batch * self.queries * 2 * hd, from_f<T>(NAN));
    mmca_text_params tp;
    tp.self = a.params(out.data(), 2 * hd, dtype_of<T>());
    tp.cross = c.params(out.data() + hd, 2 * hd, dtype_of<T>());
    launch<T, D>(exact, tp, 2);
    std::string name = std::string(kind) + " text op D=" + std::to_string(D);
    report(name + " (self half)", relative_error(out, 2 * hd, 0, a.reference(), hd), tol);
    report(name + " (cross half)", relative_error(out, 2 * hd, hd, c.reference(), hd), tol);
}

template <typename T, int D>
void suite(const char *kind, bool exact, double tol) {
    Problem p;
    single<T, D>(kind, exact, p, tol);                       // masks, M > N
    p.misaligned = true;                                     // element-wise loads
    single<T, D>(kind, exact, p, tol);
    p.misaligned = false;
    p.causal = true;                                         // right-aligned causal, offset M - N = 46
    p.grouped = true;
    single<T, D>(kind, exact, p, tol);
    p.queries = 70;                                          // N > M: the first 40 rows see no key
    p.keys = 30;
    p.key_mask = false;
    p.qk_norm = true;
    single<T, D>(kind, exact, p, tol);
    text<T, D>(kind, exact, tol);
}

}  // namespace

int main() {
    // Every head dim runs at least once, every kernel family on several; the emulation is slow
    // (one OS thread per CUDA thread), so not every combination.
    suite<float, 32>("exact fp32", true, 1e-5);
    suite<float, 80>("exact fp32", true, 1e-5);
    suite<float, 128>("exact fp32", true, 1e-5);
    suite<float, 32>("tf32", false, 1e-3);
    suite<float, 128>("tf32", false, 1e-3);
    suite<__half, 64>("fp16", false, 1e-2);
    suite<__nv_bfloat16, 96>("bf16", false, 1e-2);
    std::printf(failures == 0 ? "kernel_emulation_test: all checks passed\n" : "kernel_emulation_test: %d failures\n",
                failures);
    return failures == 0 ? 0 : 1;
}
