#include "reference.h"

#include <cmath>
#include <exception>
#include <limits>

namespace mmca::test {

namespace {
int head_of(const mmca_attention_params &p, int h) {
    return p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? h % p.kv_heads : h / (p.heads / p.kv_heads);
}
}  // namespace

std::vector<double> attention_reference(const mmca_attention_params &p) {
    const int D = p.dim_head;
    std::vector<double> out(static_cast<size_t>(p.batch) * p.queries * p.heads * D, 0.0);
    const float *q = static_cast<const float *>(p.q);
    const float *k = static_cast<const float *>(p.k);
    const float *v = static_cast<const float *>(p.v);
    for (int b = 0; b < p.batch; b++) {
        for (int h = 0; h < p.heads; h++) {
            const int g = head_of(p, h);
            for (int i = 0; i < p.queries; i++) {
                if (p.query_mask && !p.query_mask[b * p.query_mask_batch_stride + i]) continue;
                std::vector<double> qi(D);
                double qn = 0;
                for (int d = 0; d < D; d++) {
                    qi[d] = q[b * p.q_batch_stride + i * p.q_row_stride + h * p.q_head_stride + d];
                    qn += qi[d] * qi[d];
                }
                if (p.qk_norm) for (double &x : qi) x /= std::max(std::sqrt(qn), 1e-12);
                std::vector<double> logit(p.keys, -std::numeric_limits<double>::infinity());
                double mx = -std::numeric_limits<double>::infinity();
                for (int j = 0; j < p.keys; j++) {
                    const int64_t length = p.key_lengths ? p.key_lengths[b] : p.keys;
                    const int64_t position = p.query_positions
                                                 ? p.query_positions[b * p.query_positions_batch_stride + i]
                                                 : i + (p.keys - p.queries);
                    bool visible = (!p.key_mask || p.key_mask[b * p.key_mask_batch_stride + j]) && j < length
                                   && (!p.causal || j <= position);
                    if (!visible) continue;
                    const float *kj = k + b * p.k_batch_stride + j * p.k_row_stride + g * p.k_head_stride;
                    double kn = 0, dot = 0;
                    for (int d = 0; d < D; d++) kn += static_cast<double>(kj[d]) * kj[d];
                    double kf = p.qk_norm ? 1.0 / std::max(std::sqrt(kn), 1e-12) : 1.0;
                    for (int d = 0; d < D; d++) dot += qi[d] * kj[d] * kf;
                    logit[j] = static_cast<double>(p.scale) * dot;
                    mx = std::max(mx, logit[j]);
                }
                if (mx == -std::numeric_limits<double>::infinity()) continue;
                double sum = 0;
                for (int j = 0; j < p.keys; j++) sum += std::exp(logit[j] - mx);
                double *o = &out[((static_cast<size_t>(b) * p.queries + i) * p.heads + h) * D];
                for (int j = 0; j < p.keys; j++) {
                    double w = std::exp(logit[j] - mx) / sum;
                    if (w == 0) continue;
                    const float *vj = v + b * p.v_batch_stride + j * p.v_row_stride + g * p.v_head_stride;
                    for (int d = 0; d < D; d++) o[d] += w * vj[d];
                }
            }
        }
    }
    return out;
}

std::vector<double> gather_output(const mmca_attention_params &p) {
    const int D = p.dim_head;
    std::vector<double> out;
    out.reserve(static_cast<size_t>(p.batch) * p.queries * p.heads * D);
    const float *o = static_cast<const float *>(p.o);
    for (int b = 0; b < p.batch; b++)
        for (int i = 0; i < p.queries; i++)
            for (int h = 0; h < p.heads; h++)
                for (int d = 0; d < D; d++)
                    out.push_back(o[b * p.o_batch_stride + i * p.o_row_stride + h * p.o_head_stride + d]);
    return out;
}

double relative_error(const std::vector<double> &a, const std::vector<double> &b) {
    if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
    double num = 0, den = 0;
    for (size_t i = 0; i < a.size(); i++) {
        if (!std::isfinite(a[i])) return std::numeric_limits<double>::infinity();
        num += (a[i] - b[i]) * (a[i] - b[i]);
        den += b[i] * b[i];
    }
    return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

std::vector<float> normal(std::mt19937 &rng, size_t n) {
    std::normal_distribution<float> dist(0.0f, 1.0f);
    std::vector<float> v(n);
    for (float &x : v) x = dist(rng);
    return v;
}

std::vector<std::string> runnable_isas() {
    std::vector<std::string> isas;
    for (const char *name : {"portable", "avx2", "avx512"}) {
        try {
            mmca_cpu_set_isa(name);
            isas.push_back(name);
        } catch (const std::exception &) {
        }
    }
    return isas;
}

int &failures() {
    static int n = 0;
    return n;
}

void check(bool ok, const std::string &what) {
    if (!ok) {
        failures()++;
        std::printf("FAIL: %s\n", what.c_str());
    }
}

void expect_error(const std::function<void()> &fn, const std::string &expected) {
    try {
        fn();
    } catch (const std::exception &e) {
        std::string msg = e.what();
        check(msg.find(expected) != std::string::npos, "message '" + msg + "' should contain '" + expected + "'");
        return;
    }
    check(false, "expected an exception containing '" + expected + "', got none");
}

}  // namespace mmca::test
