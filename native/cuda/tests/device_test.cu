// The kernel library on a real GPU, through its public API (api.h), against the float64 reference of
// tests/reference.h: every kernel family at every head width, single problems and the fused text
// operation, decoding steps with key lengths, query positions and split-K (with the workspace the
// library asks for, and with none), NaN-poisoned outputs and a poisoned guard after each output.
// Without an NVIDIA driver or a device of compute capability 8.0+, prints why and exits 77, which
// ctest reports as skipped.
//
// Usage: device_test [--tiny] [--dim D] [--family NAME]
//   --tiny: small problems only (for compute-sanitizer); --dim / --family: only that head width / family
//   (exact, tf32, fp16, bf16).
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "dim_heads.h"
#include "mmca_cuda/api.h"
#include "reference.h"

namespace {

using mmca_test::Data;
using mmca_test::Problem;

int failures = 0, checks = 0;
bool tiny = false;
int only_dim = 0;
std::string only_family;

void check_cuda(cudaError_t e, const char *what) {
    if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

/* A device copy of a host vector (freed with the object). */
struct DeviceCopy {
    void *ptr = nullptr;
    template <typename V>
    explicit DeviceCopy(const std::vector<V> &host) {
        if (host.empty()) return;
        check_cuda(cudaMalloc(&ptr, host.size() * sizeof(V)), "cudaMalloc");
        check_cuda(cudaMemcpy(ptr, host.data(), host.size() * sizeof(V), cudaMemcpyHostToDevice), "cudaMemcpy");
    }
    explicit DeviceCopy(size_t bytes) {
        if (bytes > 0) check_cuda(cudaMalloc(&ptr, bytes), "cudaMalloc");
    }
    DeviceCopy(const DeviceCopy &) = delete;
    DeviceCopy &operator=(const DeviceCopy &) = delete;
    ~DeviceCopy() {
        if (ptr != nullptr) cudaFree(ptr);
    }
};

/* The host data's device twin; params() points into it. */
template <typename T>
struct DeviceData {
    const Data<T> &host;
    DeviceCopy q, k, v, kmask, qmask, lengths, positions;
    explicit DeviceData(const Data<T> &h)
        : host(h), q(h.q), k(h.k), v(h.v), kmask(h.kmask), qmask(h.qmask), lengths(h.lengths), positions(h.positions) {}
    mmca_attention_params params(void *o, int64_t o_row_stride) const {
        mmca_attention_params a = host.params(o, o_row_stride);
        const size_t off = host.pr.misaligned ? 1 : 0;
        a.q = static_cast<const T *>(q.ptr) + off;
        a.k = static_cast<const T *>(k.ptr) + off;
        a.v = static_cast<const T *>(v.ptr) + off;
        if (a.key_mask) a.key_mask = static_cast<const uint8_t *>(kmask.ptr);
        if (a.query_mask) a.query_mask = static_cast<const uint8_t *>(qmask.ptr);
        if (a.key_lengths) a.key_lengths = static_cast<const int32_t *>(lengths.ptr);
        if (a.query_positions) a.query_positions = static_cast<const int32_t *>(positions.ptr);
        return a;
    }
};

void report(const std::string &name, double err, double tol) {
    checks++;
    const bool ok = err <= tol;
    std::printf("%s %-90s rel err %.2e (bound %.0e)\n", ok ? "ok  " : "FAIL", name.c_str(), err, tol);
    if (!ok) failures++;
}

void fail(const std::string &name, const std::string &why) {
    checks++;
    failures++;
    std::printf("FAIL %s: %s\n", name.c_str(), why.c_str());
}

constexpr size_t kGuard = 67;

template <typename T>
void single(const std::string &family, int math, double tol, Problem p, bool with_workspace) {
    const int hd = p.heads * p.dim_head;
    const size_t n = (size_t)p.batch * p.queries * hd;
    const std::string name = family + " D=" + std::to_string(p.dim_head) + " B=" + std::to_string(p.batch) + " N="
            + std::to_string(p.queries) + " M=" + std::to_string(p.keys) + (p.causal ? " causal" : "")
            + (p.qk_norm ? " qk_norm" : "") + (p.key_lengths ? " lengths" : "") + (p.query_positions ? " positions" : "")
            + (p.misaligned ? " misaligned" : "") + (with_workspace ? " workspace" : "");
    try {
        Data<T> data(p);
        DeviceData<T> dev(data);
        std::vector<T> out(n + kGuard, mmca_test::from_f<T>(NAN));
        DeviceCopy dout(out);
        const mmca_attention_params params = dev.params(dout.ptr, hd);
        const int64_t ws_bytes = with_workspace ? mmca_cuda_workspace_bytes(0, &params, math) : 0;
        DeviceCopy ws((size_t)ws_bytes);
        mmca_cuda_attention(0, &params, math, (int64_t)(uintptr_t)ws.ptr, ws_bytes, 0);
        mmca_cuda_synchronize(0, 0);
        check_cuda(cudaMemcpy(out.data(), dout.ptr, out.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
        report(name, mmca_test::relative_error(out, hd, 0, data.reference(), hd), tol);
        if (!mmca_test::still_poisoned(out, n, kGuard)) fail(name, "wrote past the end of the output");
    } catch (const std::exception &e) {
        fail(name, e.what());
    }
}

template <typename T>
void text(const std::string &family, int math, double tol, int dim_head, bool decoding) {
    Problem self, cross;
    self.dim_head = cross.dim_head = dim_head;
    self.grouped = cross.grouped = true;
    self.causal = true;
    if (decoding) {
        self.batch = cross.batch = 3;
        self.heads = cross.heads = 8;
        self.kv_heads = 2;
        cross.kv_heads = 4;
        self.queries = cross.queries = 1;
        self.keys = tiny ? 200 : 3000;
        cross.keys = tiny ? 40 : 576;
        self.key_lengths = self.query_positions = true;
        self.key_mask = false;
    } else {
        self.queries = self.keys = cross.queries = tiny ? 45 : 300;
        cross.keys = tiny ? 70 : 576;
    }
    cross.seed = 2;
    const std::string name = family + " D=" + std::to_string(dim_head) + " text op" + (decoding ? " decoding step" : "");
    try {
        Data<T> a(self), c(cross);
        c.qmask = a.qmask;
        DeviceData<T> da(a), dc(c);
        const int hd = self.heads * dim_head;
        const size_t n = (size_t)self.batch * self.queries * 2 * hd;
        std::vector<T> out(n + kGuard, mmca_test::from_f<T>(NAN));
        DeviceCopy dout(out);
        mmca_text_params tp;
        tp.self = da.params(dout.ptr, 2 * hd);
        tp.cross = dc.params(static_cast<T *>(dout.ptr) + hd, 2 * hd);
        const int64_t ws_bytes = mmca_cuda_text_workspace_bytes(0, &tp, math);
        DeviceCopy ws((size_t)ws_bytes);
        mmca_cuda_text(0, &tp, math, (int64_t)(uintptr_t)ws.ptr, ws_bytes, 0);
        mmca_cuda_synchronize(0, 0);
        check_cuda(cudaMemcpy(out.data(), dout.ptr, out.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
        report(name + " (self half)", mmca_test::relative_error(out, 2 * hd, 0, a.reference(), hd), tol);
        report(name + " (cross half)", mmca_test::relative_error(out, 2 * hd, hd, c.reference(), hd), tol);
        if (!mmca_test::still_poisoned(out, n, kGuard)) fail(name, "wrote past the end of the output");
    } catch (const std::exception &e) {
        fail(name, e.what());
    }
}

template <typename T>
void family(const std::string &name, int math, double tol) {
    for (int d : {
#define MMCA_LIST(D) D,
             MMCA_FOR_EACH_DIM_HEAD(MMCA_LIST)
#undef MMCA_LIST
         }) {
        if (only_dim != 0 && d != only_dim) continue;
        const std::string problem = mmca_cuda_support_problem(0, mmca_test::dtype_of<T>(), math, d);
        if (!problem.empty()) {  // the device says no with a reason: then the launch must refuse too
            std::printf("note %s D=%d not supported here: %s\n", name.c_str(), d, problem.c_str());
            Problem p;
            p.dim_head = d;
            Data<T> data(p);
            DeviceData<T> dev(data);
            DeviceCopy dout((size_t)p.batch * p.queries * p.heads * d * sizeof(T));
            const mmca_attention_params params = dev.params(dout.ptr, p.heads * d);
            try {
                mmca_cuda_attention(0, &params, math, 0, 0, 0);
                fail(name + " D=" + std::to_string(d), "launch accepted a configuration the device does not support");
            } catch (const std::invalid_argument &) {
                checks++;
            }
            continue;
        }
        Problem p;
        p.dim_head = d;
        if (!tiny) {
            p.queries = 300;
            p.keys = 517;
        }
        single<T>(name, math, tol, p, false);
        Problem c = p;
        c.causal = c.grouped = c.qk_norm = true;
        c.misaligned = d == 64;
        single<T>(name, math, tol, c, false);
        Problem dec;
        dec.dim_head = d;
        dec.batch = 3;
        dec.heads = 8;
        dec.queries = 2;
        dec.keys = tiny ? 300 : 5000;
        dec.causal = dec.key_lengths = dec.query_positions = true;
        single<T>(name, math, tol, dec, true);
        single<T>(name, math, tol, dec, false);
        text<T>(name, math, tol, d, false);
        text<T>(name, math, tol, d, true);
    }
}

}  // namespace

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--tiny") == 0) {
            tiny = true;
        } else if (std::strcmp(argv[i], "--dim") == 0 && i + 1 < argc) {
            only_dim = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--family") == 0 && i + 1 < argc) {
            only_family = argv[++i];
        } else {
            std::printf("usage: device_test [--tiny] [--dim D] [--family exact|tf32|fp16|bf16]\n");
            return 2;
        }
    }
    const std::string driver = mmca_cuda_driver_problem();
    if (!driver.empty()) {
        std::printf("device_test: skipped: %s\n", driver.c_str());
        return 77;
    }
    int count = 0;
    const int status = mmca_cuda_device_count(&count);
    if (status != 0 || count == 0) {
        std::printf("device_test: skipped: %s\n", status != 0 ? mmca_cuda_error_string(status) : "no CUDA device");
        return 77;
    }
    int major = 0, minor = 0;
    int64_t total = 0, shared = 0;
    mmca_cuda_device_info(0, &major, &minor, &total, &shared);
    std::printf("device 0: %s, sm_%d%d, %lld MiB, %lld bytes of shared memory per block\n", mmca_cuda_device_name(0), major,
                minor, (long long)(total >> 20), (long long)shared);
    if (major < 8) {
        std::printf("device_test: skipped: compute capability %d.%d (the kernels need 8.0)\n", major, minor);
        return 77;
    }
    auto wanted = [](const char *f) { return only_family.empty() || only_family == f; };
    if (wanted("exact")) family<float>("exact fp32", MMCA_MATH_EXACT, 1e-5);
    if (wanted("tf32")) family<float>("tf32", MMCA_MATH_TENSOR_CORE, 1e-3);
    if (wanted("fp16")) family<__half>("fp16", MMCA_MATH_TENSOR_CORE, 1e-2);
    if (wanted("bf16")) family<__nv_bfloat16>("bf16", MMCA_MATH_TENSOR_CORE, 1e-2);
    if (checks == 0) {
        std::printf("device_test: no check matched the arguments\n");
        return 2;
    }
    std::printf("device_test: %d checks, %d failures\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
