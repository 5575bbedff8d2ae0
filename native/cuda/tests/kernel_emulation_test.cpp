// Runs the real attention kernels (src/attention.cuh, through the configurations and work plans of
// src/launch.cuh) on the CPU through the emulation in tests/emulation, and compares them with the
// float64 reference of tests/reference.h. Every kernel family (fp16, bf16, tf32, exact fp32 as 3xTF32)
// runs at every head width on sizes that are not multiples of any tile, with key and query masks,
// causal offsets in both directions, both head mappings, qk_norm, key lengths and query positions
// (decoding, with NaN in the cache past the lengths), split-K with its combine, grouped rows of several
// heads per tile, misaligned inputs, and the fused text operation in one grid. Outputs and the split-K
// workspace start as NaN, so an element a kernel forgets to write fails the comparison, and the
// elements just past the output must still be NaN afterwards. No GPU needed.
//
// Usage: kernel_emulation_test [FAMILY ...]   (fp16 bf16 tf32 exact, or overflow alone; default: all)
#include "cuda_emulation.h"  // must come first: turns CUDA qualifiers into plain C++

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "launch.cuh"
#include "mma_ops.cuh"
#include "reference.h"

namespace mmca_cuda {
alignas(128) unsigned char attention_smem[128 * 1024];  // the kernels' extern __shared__ buffer
}

namespace {

using namespace mmca_cuda;
using mmca_test::Data;
using mmca_test::Problem;

int failures = 0;
int checks = 0;
unsigned schedule_seed = 1;

void report(const std::string &name, double err, double tol, const std::string &extra = "") {
    const bool ok = err <= tol;
    checks++;
    std::printf("%s %-84s rel err %.2e (bound %.0e)%s\n", ok ? "ok  " : "FAIL", name.c_str(), err, tol, extra.c_str());
    if (!ok) failures++;
}

void fail(const std::string &name, const std::string &why) {
    checks++;
    failures++;
    std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
}

/* Emulates one launch: the attention grid of the plan, then the combine where it splits. */
template <class Cfg>
WorkPlan emulate(const mmca_text_params &tp, int problems, int forced_splits, int64_t target_ctas) {
    using Elem = typename Cfg::Elem;
    static_assert(Cfg::kSmemBytes <= sizeof(attention_smem), "shared memory of the emulation");
    const WorkPlan plan = plan_for(tp, problems, Cfg::kMath, target_ctas, INT64_MAX, forced_splits);
    std::vector<float> workspace((size_t)plan.workspace_floats + 4, NAN);
    AttentionArgs args;
    args.tp = tp;
    args.plan = plan;
    args.workspace = workspace.data();
    char *smem = reinterpret_cast<char *>(attention_smem);
    emu::launch(dim3((unsigned)plan.ctas), Cfg::kThreads, smem, Cfg::kSmemBytes,
                [&] { attention_kernel<Cfg>(args); }, schedule_seed++);
    if (plan.combine_rows > 0) {
        const unsigned blocks = (unsigned)((plan.combine_rows + kCombineThreads / 32 - 1) / (kCombineThreads / 32));
        emu::launch(dim3(blocks), kCombineThreads, smem, 0, [&] { combine_kernel<Elem>(args); }, schedule_seed++);
    }
    return plan;
}

std::string describe(const Problem &p) {
    char s[200];
    std::snprintf(s, sizeof s, "B=%d H=%d G=%d N=%d M=%d%s%s%s%s%s%s%s", p.batch, p.heads, p.kv_heads, p.queries, p.keys,
                  p.causal ? " causal" : "", p.qk_norm ? " qk_norm" : "", p.grouped ? " grouped" : " modulo",
                  p.key_mask ? " kmask" : "", p.key_lengths ? " lengths" : "", p.query_positions ? " positions" : "",
                  p.misaligned ? " misaligned" : "");
    return s;
}

constexpr size_t kGuard = 67;  // poisoned elements after every output

/* One attention problem through the kernel of Cfg. */
template <class Cfg>
void single(const char *family, double tol, Problem p, int forced_splits = 0, int64_t target_ctas = 0) {
    using T = typename Cfg::Elem;
    p.dim_head = Cfg::kDimHead;
    Data<T> data(p);
    const int hd = p.heads * p.dim_head;
    const size_t n = (size_t)p.batch * p.queries * hd;
    std::vector<T> out(n + kGuard, mmca_test::from_f<T>(NAN));
    mmca_text_params tp;
    tp.self = data.params(out.data(), hd);
    tp.cross = tp.self;
    const std::string name = std::string(family) + " D=" + std::to_string(p.dim_head) + " " + describe(p);
    try {
        const WorkPlan plan = emulate<Cfg>(tp, 1, forced_splits, target_ctas);
        const std::string extra = plan.problem[0].splits > 1 ? "  splits " + std::to_string(plan.problem[0].splits) : "";
        report(name, mmca_test::relative_error(out, hd, 0, data.reference(), hd), tol, extra);
        if (!mmca_test::still_poisoned(out, n, kGuard)) fail(name, "wrote past the end of the output");
    } catch (const std::exception &e) {
        fail(name, e.what());
    }
}

/*
 * The fused text operation: causal self-attention and cross-attention over the same queries, one
 * grid, each writing its half of one [rows, 2 * H * D] buffer; the cross problem has its own key
 * count and kv heads.
 */
template <class Cfg>
void text(const char *family, double tol, bool decoding, int forced_splits) {
    using T = typename Cfg::Elem;
    Problem self, cross;
    self.dim_head = cross.dim_head = Cfg::kDimHead;
    self.grouped = cross.grouped = true;
    self.causal = true;
    if (decoding) {  // a step of 3 new tokens against a partly filled cache, and the visual tokens
        self.batch = cross.batch = 3;
        self.heads = cross.heads = 8;
        self.kv_heads = 2;
        cross.kv_heads = 4;
        self.queries = cross.queries = 3;
        self.keys = 140;
        cross.keys = 57;
        self.key_lengths = self.query_positions = true;
        self.key_mask = false;
    } else {
        self.queries = self.keys = cross.queries = 45;
        cross.keys = 70;
    }
    cross.seed = 2;
    Data<T> a(self), c(cross);
    c.qmask = a.qmask;  // one query mask for both, as in the model
    const int hd = self.heads * self.dim_head;
    const size_t n = (size_t)self.batch * self.queries * 2 * hd;
    std::vector<T> out(n + kGuard, mmca_test::from_f<T>(NAN));
    mmca_text_params tp;
    tp.self = a.params(out.data(), 2 * hd);
    tp.cross = c.params(out.data() + hd, 2 * hd);
    const std::string name = std::string(family) + " D=" + std::to_string(self.dim_head) + " text op "
            + (decoding ? "decoding step " : "") + describe(self);
    try {
        const WorkPlan plan = emulate<Cfg>(tp, 2, forced_splits, 0);
        const std::string extra = plan.problem[0].splits > 1 || plan.problem[1].splits > 1
                ? "  splits " + std::to_string(plan.problem[0].splits) + "/" + std::to_string(plan.problem[1].splits)
                : "";
        report(name + " (self half)", mmca_test::relative_error(out, 2 * hd, 0, a.reference(), hd), tol, extra);
        report(name + " (cross half)", mmca_test::relative_error(out, 2 * hd, hd, c.reference(), hd), tol, extra);
        if (!mmca_test::still_poisoned(out, n, kGuard)) fail(name, "wrote past the end of the output");
    } catch (const std::exception &e) {
        fail(name, e.what());
    }
}

/*
 * A row whose every visible score is -inf (q = 1e20 against k = -1e20 in column 0 of head 0: q.k about -1e40) is
 * written as NaN, for the host to report as an overflow, in one pass and with split-K; every other row stays finite
 * (rows that see no key are zero). Query 0 of element 1 (causal, right-aligned: keys 0-163) against keys 0-163, or,
 * with a key mask that lets only keys 5 and 150 of element 1 through, against those two.
 */
template <class Cfg>
void overflow_downwards(const char *family, bool masked, int forced_splits) {
    using T = typename Cfg::Elem;
    Problem p;
    p.dim_head = Cfg::kDimHead;
    p.queries = 37;
    p.keys = 200;
    p.causal = true;
    p.query_mask = false;
    p.key_mask = masked;
    p.seed = 8;
    Data<T> data(p);
    const int hd = p.heads * p.dim_head, gd = p.kv_heads * p.dim_head;
    // Element 0 of every head of q and k zero, so that only the pairs set below have extreme scores (huge finite
    // scores elsewhere would lose the base-2 softmax's precision, a different matter).
    for (size_t e = 0; e < data.q.size(); e += p.dim_head) data.q[e] = mmca_test::from_f<T>(0.0f);
    for (size_t e = 0; e < data.k.size(); e += p.dim_head) data.k[e] = mmca_test::from_f<T>(0.0f);
    data.q[(size_t)p.queries * hd] = mmca_test::from_f<T>(1e20f);
    for (int j = 0; j < p.keys; j++) {
        if (masked) data.kmask[(size_t)p.keys + j] = j == 5 || j == 150;
        if (masked ? j == 5 || j == 150 : j <= 163) data.k[((size_t)p.keys + j) * gd] = mmca_test::from_f<T>(-1e20f);
    }
    const size_t n = (size_t)p.batch * p.queries * hd;
    std::vector<T> out(n + kGuard, mmca_test::from_f<T>(NAN));
    mmca_text_params tp;
    tp.self = data.params(out.data(), hd);
    tp.cross = tp.self;
    const WorkPlan plan = emulate<Cfg>(tp, 1, forced_splits, 0);
    bool ok = true;
    for (size_t e = 0; e < n; e++) {
        const bool lost = e >= (size_t)p.queries * hd && e < (size_t)p.queries * hd + p.dim_head;  // [1, 0, head 0]
        const float o = mmca_test::to_f(out[e]);
        ok &= lost ? std::isnan(o) : std::isfinite(o);
    }
    checks++;
    if (!ok) failures++;
    std::printf("%s %s D=%d every visible score of a row -inf%s -> NaN in that row only (splits %d)\n",
                ok ? "ok  " : "FAIL", family, p.dim_head, masked ? " (key mask)" : "", plan.problem[0].splits);
}

/* The cases every family runs at one head width. */
template <class Cfg>
void suite(const char *family, double tol) {
    constexpr int D = Cfg::kDimHead;
    Problem p;  // key and query masks, M > N, modulo mapping
    single<Cfg>(family, tol, p);

    Problem c;  // right-aligned causal with N > M (the first 40 rows see no key), grouped, qk_norm
    c.queries = 70;
    c.keys = 30;
    c.causal = c.grouped = c.qk_norm = true;
    c.key_mask = false;
    c.seed = 3;
    single<Cfg>(family, tol, c);

    Problem d;  // decoding: 2 new tokens, 4 heads per kv head in one tile, cache of 150 rows, split-K
    d.batch = 3;
    d.heads = 8;
    d.queries = 2;
    d.keys = 150;
    d.causal = d.key_lengths = d.query_positions = true;
    d.seed = 4;
    single<Cfg>(family, tol, d, 3);

    text<Cfg>(family, tol, false, 0);

    // Further features, spread over the head widths to keep the run short.
    if (D == 64) {
        Problem m = p;  // element-wise loads; causal M > N (offset 46)
        m.misaligned = m.causal = true;
        m.seed = 5;
        single<Cfg>(family, tol, m);
        text<Cfg>(family, tol, true, 2);
    }
    if (D == 96) {
        Problem s;  // one token, long cache, the automatic split (few CTAs against a target of 64)
        s.batch = 1;
        s.queries = 1;
        s.keys = 700;
        s.causal = s.key_lengths = true;
        s.key_mask = false;
        s.seed = 6;
        single<Cfg>(family, tol, s, 0, 64);
    }
    if (D == 128) {
        Problem q = p;  // qk_norm with key masks, causal right-aligned, grouped
        q.qk_norm = q.causal = q.grouped = true;
        q.keys = 100;
        q.seed = 7;
        single<Cfg>(family, tol, q);
    }
}

template <Math M>
void family(const char *name, double tol) {
#define MMCA_SUITE(D) suite<KernelConfig<M, D>>(name, tol);
    MMCA_FOR_EACH_DIM_HEAD(MMCA_SUITE)
#undef MMCA_SUITE
}

/*
 * The emulated instructions against plain matrix products: ldmatrix of row-major tiles gives the
 * documented A and B fragments, so A (16x16) times B^T (8x16) through ldmatrix_x4 + mma must be the
 * plain product, for each operand type; and ldmatrix_x4_trans of a row-major B (16x8) the same.
 */
void primitive_checks() {
    char *smem = reinterpret_cast<char *>(attention_smem);
    const std::string name = "emulated ldmatrix + mma.sync layouts";
    try {
        for (int type = 0; type < 3; type++) {  // bf16, fp16, tf32
            std::vector<float> a(16 * 16), b(16 * 16);
            std::mt19937 rng(11 + type);
            std::uniform_int_distribution<int> small(-8, 8);  // exact in every operand type
            for (auto &x : a) x = (float)small(rng) / 4;
            for (auto &x : b) x = (float)small(rng) / 4;
            float got[16][8], got_t[16][8];
            emu::launch(dim3(1), 32, smem, 4096, [&] {
                const int lane = threadIdx.x;
                const int g = lane / 4, t = lane % 4;
                if (type < 2) {
                    uint16_t *sa = reinterpret_cast<uint16_t *>(smem);         // A row-major 16x16
                    uint16_t *sb = reinterpret_cast<uint16_t *>(smem + 1024);  // B^T row-major 8x16 (n x k)
                    uint16_t *sv = reinterpret_cast<uint16_t *>(smem + 2048);  // B row-major 16x8 (k x n)
                    auto h = [&](float x) {
                        uint16_t u;
                        if (type == 0) {
                            const __nv_bfloat16 v = __float2bfloat16_rn(x);
                            std::memcpy(&u, &v, 2);
                        } else {
                            const __half v = __float2half_rn(x);
                            std::memcpy(&u, &v, 2);
                        }
                        return u;
                    };
                    if (lane == 0) {
                        for (int r = 0; r < 16; r++)
                            for (int k = 0; k < 16; k++) sa[r * 16 + k] = h(a[r * 16 + k]);
                        for (int n = 0; n < 8; n++)
                            for (int k = 0; k < 16; k++) sb[n * 16 + k] = h(b[k * 16 + n]), sv[k * 8 + n] = h(b[k * 16 + n]);
                    }
                    __syncwarp();
                    uint32_t fa[4], fb[4], fv[4];
                    ldmatrix_x4(fa, sa + ((lane >> 3) & 1) * 8 * 16 + (lane & 7) * 16 + ((lane >> 4) & 1) * 8);
                    // B^T: matrix 0 = n 0-7, k 0-7; matrix 1 = k 8-15 (matrices 2, 3 repeat them)
                    ldmatrix_x4(fb, sb + (lane & 7) * 16 + ((lane >> 3) & 1) * 8);
                    // B: matrix 0 = k 0-7, matrix 1 = k 8-15, transposed
                    ldmatrix_x4_trans(fv, sv + ((lane >> 3) & 1) * 8 * 8 + (lane & 7) * 8);
                    float d[4] = {0, 0, 0, 0}, dt[4] = {0, 0, 0, 0};
                    const uint32_t bb[2] = {fb[0], fb[1]}, bv[2] = {fv[0], fv[1]};
                    if (type == 0) {
                        mma_bf16_16816(d, fa, bb);
                        mma_bf16_16816(dt, fa, bv);
                    } else {
                        mma_f16_16816(d, fa, bb);
                        mma_f16_16816(dt, fa, bv);
                    }
                    for (int e = 0; e < 4; e++) {
                        got[g + (e >= 2 ? 8 : 0)][2 * t + (e & 1)] = d[e];
                        got_t[g + (e >= 2 ? 8 : 0)][2 * t + (e & 1)] = dt[e];
                    }
                } else {
                    float *sa = reinterpret_cast<float *>(smem);         // A row-major 16x8
                    float *sb = reinterpret_cast<float *>(smem + 1024);  // B^T row-major 8x8 (n x k)
                    if (lane == 0) {
                        for (int r = 0; r < 16; r++)
                            for (int k = 0; k < 8; k++) sa[r * 8 + k] = a[r * 16 + k];
                        for (int n = 0; n < 8; n++)
                            for (int k = 0; k < 8; k++) sb[n * 8 + k] = b[k * 16 + n];
                    }
                    __syncwarp();
                    uint32_t fa[4], fb[4];
                    ldmatrix_x4(fa, sa + ((lane >> 3) & 1) * 8 * 8 + (lane & 7) * 8 + ((lane >> 4) & 1) * 4);
                    ldmatrix_x4(fb, sb + (lane & 7) * 8 + ((lane >> 3) & 1) * 4);
                    const uint32_t bb[2] = {fb[0], fb[1]};
                    float d[4] = {0, 0, 0, 0};
                    mma_tf32_1688(d, fa, bb);
                    for (int e = 0; e < 4; e++) got[g + (e >= 2 ? 8 : 0)][2 * t + (e & 1)] = got_t[g + (e >= 2 ? 8 : 0)][2 * t + (e & 1)] = d[e];
                }
            });
            const int K = type < 2 ? 16 : 8;
            double err = 0;
            for (int r = 0; r < 16; r++) {
                for (int n = 0; n < 8; n++) {
                    double want = 0;
                    for (int k = 0; k < K; k++) want += (double)a[r * 16 + k] * b[k * 16 + n];
                    err = std::max(err, std::fabs(want - got[r][n]) + std::fabs(want - got_t[r][n]));
                }
            }
            static const char *types[] = {"bf16", "fp16", "tf32"};
            report(name + " (" + types[type] + ")", err, 0.0);
        }
    } catch (const std::exception &e) {
        fail(name, e.what());
    }
}

}  // namespace

int main(int argc, char **argv) {
    std::vector<std::string> wanted(argv + 1, argv + argc);
    auto run = [&](const char *name) { return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end(); };
    const auto start = std::chrono::steady_clock::now();
    primitive_checks();
    emu::bank_stats() = emu::BankStats();
    // Bounds: SPEC's 1e-5 for exact fp32, 1e-3 for tf32 products, 1e-2 for fp16/bf16 data.
    if (run("exact")) family<Math::kTF32x3>("exact fp32", 1e-5);
    if (run("exact") || run("overflow")) {
        for (bool masked : {false, true}) {
            for (int splits : {1, 3}) overflow_downwards<KernelConfig<Math::kTF32x3, 64>>("exact fp32", masked, splits);
        }
    }
    if (run("tf32")) family<Math::kTF32>("tf32", 1e-3);
    if (run("fp16")) family<Math::kF16>("fp16", 1e-2);
    if (run("bf16")) family<Math::kBF16>("bf16", 1e-2);
    // The kernels' shared-memory layouts (swizzled or padded rows) keep every ldmatrix conflict-free;
    // the primitive checks above use plain rows on purpose and are not counted.
    const emu::BankStats banks = emu::bank_stats();
    checks++;
    if (banks.conflicted != 0) failures++;
    std::printf("%s ldmatrix bank conflicts in the kernels: %lld of %lld matrices\n", banks.conflicted == 0 ? "ok  " : "FAIL",
                banks.conflicted, banks.matrices);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("kernel_emulation_test: %d checks, %d failures, %.1f s\n", checks, failures, secs);
    return failures == 0 ? 0 : 1;
}
