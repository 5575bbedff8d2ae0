/* The host entry points of api.h: make the caller's device current, validate, then launch on the caller's stream. */
#include "mmca_cuda/api.h"

#include <dlfcn.h>

#include <stdexcept>
#include <string>

#include "common.cuh"
#include "dim_heads.h"
#include "launch.cuh"
#include "validate.h"

using namespace mmca_cuda;

namespace {

/* Grid dimensions y (heads) and z (batch) are limited to 65535. */
void check_grid(const mmca_attention_params &p, const char *which) {
    if (p.heads > 65535) throw std::invalid_argument(std::string(which) + ".heads: expected at most 65535, got " + std::to_string(p.heads));
    if (p.batch > 65535) throw std::invalid_argument(std::string(which) + ".batch: expected at most 65535, got " + std::to_string(p.batch));
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
    cudaDeviceProp prop;
    MMCA_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    if (major) *major = prop.major;
    if (minor) *minor = prop.minor;
    if (total_bytes) *total_bytes = (int64_t)prop.totalGlobalMem;
    if (shared_per_block) *shared_per_block = (int64_t)prop.sharedMemPerBlockOptin;
}

const char *mmca_cuda_device_name(int device) {
    static thread_local std::string name;
    cudaDeviceProp prop;
    MMCA_CUDA_CHECK(cudaGetDeviceProperties(&prop, device));
    name = prop.name;
    return name.c_str();
}

void mmca_cuda_attention(int device, const mmca_attention_params *params, int math, int64_t stream) {
    validate(params, math, "attention");
    check_grid(*params, "attention");
    use_device(device);
    mmca_text_params t;
    t.self = *params;
    t.cross = *params;  // unused with one problem
    launch_attention(t, 1, math, reinterpret_cast<cudaStream_t>(stream));
}

void mmca_cuda_text(int device, const mmca_text_params *params, int math, int64_t stream) {
    validate_text(params, math);
    check_grid(params->self, "self");
    use_device(device);
    launch_attention(*params, 2, math, reinterpret_cast<cudaStream_t>(stream));
}

void mmca_cuda_synchronize(int device, int64_t stream) {
    use_device(device);
    MMCA_CUDA_CHECK(cudaStreamSynchronize(reinterpret_cast<cudaStream_t>(stream)));
    MMCA_CUDA_CHECK(cudaGetLastError());
}
