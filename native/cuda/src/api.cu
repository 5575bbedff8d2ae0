/* The host entry points of api.h: validate, make the caller's device current, check what it supports, plan, launch. */
#include "mmca_cuda/api.h"

#include <dlfcn.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common.cuh"
#include "dim_heads.h"
#include "launch.cuh"
#include "validate.h"

using namespace mmca_cuda;

namespace {

/* What the launches need to know about a device, read once per device. */
struct DeviceInfo {
    int major = 0, minor = 0, multiprocessors = 0;
    int64_t total_bytes = 0, shared_optin = 0;
    std::string name;
};

const DeviceInfo &device_info(int device) {
    static std::mutex lock;
    static std::map<int, DeviceInfo> known;
    std::lock_guard<std::mutex> guard(lock);
    auto it = known.find(device);
    if (it != known.end()) return it->second;
    if (device < 0) throw std::invalid_argument("device: expected a device ordinal >= 0, got " + std::to_string(device));
    cudaDeviceProp prop;
    MMCA_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    DeviceInfo info;
    info.major = prop.major;
    info.minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    info.total_bytes = (int64_t)prop.totalGlobalMem;
    info.shared_optin = (int64_t)prop.sharedMemPerBlockOptin;
    info.name = prop.name;
    return known.emplace(device, info).first->second;
}

/* Why `device` cannot run family x dim_head, or "" (dim_head already validated). */
std::string support_problem(int device, Math family, int dim_head) {
    const DeviceInfo &d = device_info(device);
    const std::string which = "device " + std::to_string(device) + " (" + d.name + ", sm_" + std::to_string(d.major)
            + std::to_string(d.minor) + ")";
    if (d.major < 8) {
        return which + " has compute capability " + std::to_string(d.major) + "." + std::to_string(d.minor)
                + "; the kernels need 8.0 or newer (cp.async, bf16 and tf32 tensor cores)";
    }
    const size_t need = shared_bytes(family, dim_head);
    if ((int64_t)need > d.shared_optin) {
        return "dim_head: head dim " + std::to_string(dim_head) + " in " + family_name(family) + " needs "
                + std::to_string(need) + " bytes of shared memory per block; " + which + " allows "
                + std::to_string(d.shared_optin);
    }
    return "";
}

void require_support(int device, Math family, int dim_head) {
    const std::string problem = support_problem(device, family, dim_head);
    if (!problem.empty()) throw std::invalid_argument(problem);
}

/* Split-K aims at about two CTAs per multiprocessor in flight, twice over. */
int64_t target_ctas(int device) { return 4 * (int64_t)device_info(device).multiprocessors; }

WorkPlan plan(int device, const mmca_text_params &tp, int problems, int math, int64_t workspace_bytes) {
    const WorkPlan w = plan_for(tp, problems, family_of(math, tp.self.dtype), target_ctas(device), workspace_bytes);
    if (w.ctas > 0x7fffffffLL) {
        throw std::invalid_argument("batch: " + std::to_string(w.ctas) + " tiles exceed one grid (at most 2^31 - 1)");
    }
    return w;
}

/* Combines the split problems' partial results into their outputs (after the attention kernel, same stream). */
void launch_combine(const AttentionArgs &args, int dtype, cudaStream_t stream) {
    if (args.plan.combine_rows == 0) return;
    const long long rows_per_block = kCombineThreads / 32;
    const unsigned blocks = (unsigned)((args.plan.combine_rows + rows_per_block - 1) / rows_per_block);
    switch (dtype) {
        case MMCA_DTYPE_F16: combine_kernel<__half><<<blocks, kCombineThreads, 0, stream>>>(args); break;
        case MMCA_DTYPE_BF16: combine_kernel<__nv_bfloat16><<<blocks, kCombineThreads, 0, stream>>>(args); break;
        default: combine_kernel<float><<<blocks, kCombineThreads, 0, stream>>>(args); break;
    }
    MMCA_CUDA_CHECK(cudaGetLastError());
}

void run(int device, const mmca_text_params &tp, int problems, int math, int64_t workspace, int64_t workspace_bytes,
         int64_t stream) {
    if (workspace_bytes < 0) throw std::invalid_argument("workspace_bytes: expected >= 0, got " + std::to_string(workspace_bytes));
    if (workspace == 0) workspace_bytes = 0;
    if (workspace % 16 != 0) throw std::invalid_argument("workspace: expected a 16-byte aligned device pointer");
    const Math family = family_of(math, tp.self.dtype);
    use_device(device);
    require_support(device, family, tp.self.dim_head);
    AttentionArgs args;
    args.tp = tp;
    args.plan = plan(device, tp, problems, math, workspace_bytes);
    args.workspace = reinterpret_cast<float *>(workspace);
    const cudaStream_t s = reinterpret_cast<cudaStream_t>(stream);
    with_config(family, tp.self.dim_head, [&](auto cfg) { launch_kernel<decltype(cfg)>(args, s); });
    launch_combine(args, tp.self.dtype, s);
}

}  // namespace

namespace mmca_cuda {

void use_device(int device) {
    if (device < 0) throw std::invalid_argument("device: expected a device ordinal >= 0, got " + std::to_string(device));
    int current = -1;
    MMCA_CUDA_CHECK(cudaGetDevice(&current));
    if (current != device) MMCA_CUDA_CHECK(cudaSetDevice(device));
}

}  // namespace mmca_cuda

const char *mmca_cuda_driver_problem() {
    static thread_local std::string problem;
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (h == nullptr) {
        const char *e = dlerror();
        problem = std::string("libcuda.so.1 not found (no NVIDIA driver): ") + (e ? e : "dlopen failed");
    } else {
        dlclose(h);
        problem.clear();
    }
    return problem.c_str();
}

int mmca_cuda_device_count(int *count) {
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (count != nullptr) *count = e == cudaSuccess ? n : 0;
    return (int)e;
}

const char *mmca_cuda_error_string(int code) {
    static thread_local std::string s;
    cudaError_t e = (cudaError_t)code;
    s = std::string(cudaGetErrorName(e)) + ": " + cudaGetErrorString(e);
    return s.c_str();
}

void mmca_cuda_device_info(int device, int *major, int *minor, int64_t *total_bytes, int64_t *shared_per_block) {
    const DeviceInfo &d = device_info(device);
    if (major) *major = d.major;
    if (minor) *minor = d.minor;
    if (total_bytes) *total_bytes = d.total_bytes;
    if (shared_per_block) *shared_per_block = d.shared_optin;
}

const char *mmca_cuda_device_name(int device) {
    static thread_local std::string name;
    name = device_info(device).name;
    return name.c_str();
}

const char *mmca_cuda_support_problem(int device, int dtype, int math, int dim_head) {
    static thread_local std::string problem;
    if (dtype != MMCA_DTYPE_F32 && dtype != MMCA_DTYPE_F16 && dtype != MMCA_DTYPE_BF16) {
        problem = "dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got " + std::to_string(dtype);
    } else if (math != MMCA_MATH_EXACT && math != MMCA_MATH_TENSOR_CORE) {
        problem = "math: expected 0 (exact fp32) or 1 (tensor cores), got " + std::to_string(math);
    } else if (math == MMCA_MATH_EXACT && dtype != MMCA_DTYPE_F32) {
        problem = "math: exact fp32 math needs dtype f32, got dtype " + std::to_string(dtype);
    } else if (!supported_dim_head(dim_head)) {
        problem = "dim_head: unsupported head dim " + std::to_string(dim_head) + " (the CUDA kernels support "
                + supported_dim_heads_text() + ")";
    } else {
        problem = support_problem(device, family_of(math, dtype), dim_head);
    }
    return problem.c_str();
}

int64_t mmca_cuda_workspace_bytes(int device, const mmca_attention_params *params, int math) {
    validate(params, math, "attention");
    mmca_text_params tp;
    tp.self = *params;
    tp.cross = *params;
    return plan(device, tp, 1, math, INT64_MAX).workspace_floats * (int64_t)sizeof(float);
}

int64_t mmca_cuda_text_workspace_bytes(int device, const mmca_text_params *params, int math) {
    validate_text(params, math);
    return plan(device, *params, 2, math, INT64_MAX).workspace_floats * (int64_t)sizeof(float);
}

void mmca_cuda_attention(int device, const mmca_attention_params *params, int math, int64_t workspace,
                         int64_t workspace_bytes, int64_t stream) {
    validate(params, math, "attention");
    mmca_text_params tp;
    tp.self = *params;
    tp.cross = *params;  // unused with one problem
    run(device, tp, 1, math, workspace, workspace_bytes, stream);
}

void mmca_cuda_text(int device, const mmca_text_params *params, int math, int64_t workspace, int64_t workspace_bytes,
                    int64_t stream) {
    validate_text(params, math);
    run(device, *params, 2, math, workspace, workspace_bytes, stream);
}

void mmca_cuda_interleaved(int device, const mmca_interleaved_params *params, int math, int64_t stream) {
    validate_interleaved(params, math);
    use_device(device);
    launch_interleaved(*params, reinterpret_cast<cudaStream_t>(stream));
}

void mmca_cuda_synchronize(int device, int64_t stream) {
    use_device(device);
    MMCA_CUDA_CHECK(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)));
    MMCA_CUDA_CHECK(cudaGetLastError());
}
