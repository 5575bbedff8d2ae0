/* c_api.h: every C entry point runs its api.h counterpart and turns an exception into a status. */
#include "mmca_cuda/c_api.h"

#include <cstring>
#include <stdexcept>
#include <string>

#include "mmca_cuda/api.h"

namespace {

thread_local std::string last_error;

template <class F>
int guarded(F &&f) {
    try {
        f();
        last_error.clear();
        return 0;
    } catch (const std::invalid_argument &e) {
        last_error = e.what();
        return 1;
    } catch (const std::exception &e) {
        last_error = e.what();
        return 2;
    } catch (...) {
        last_error = "unknown error";
        return 2;
    }
}

void copy_out(const std::string &s, char *buf, int size) {
    if (buf == nullptr || size <= 0) return;
    const size_t n = s.size() < (size_t)size - 1 ? s.size() : (size_t)size - 1;
    std::memcpy(buf, s.data(), n);
    buf[n] = '\0';
}

}  // namespace

extern "C" {

const char *mmca_cuda_c_last_error(void) { return last_error.c_str(); }

int mmca_cuda_c_params_size(void) { return mmca_cuda_params_size(); }

int mmca_cuda_c_format_params(const mmca_attention_params *params, char *buf, int size, int *length) {
    return guarded([&] {
        const int n = mmca_cuda_format_params(params, buf, size);
        if (length != nullptr) *length = n;
    });
}

int mmca_cuda_c_dim_heads(int32_t *out, int capacity) { return mmca_cuda_dim_heads(out, capacity); }

const char *mmca_cuda_c_driver_problem(void) { return mmca_cuda_driver_problem(); }

int mmca_cuda_c_device_count(int *count, int *cuda_error) {
    return guarded([&] {
        const int e = mmca_cuda_device_count(count);
        if (cuda_error != nullptr) *cuda_error = e;
    });
}

int mmca_cuda_c_device_info(int device, int *major, int *minor, int64_t *total_bytes, int64_t *shared_per_block,
                            char *name, int name_size) {
    return guarded([&] {
        mmca_cuda_device_info(device, major, minor, total_bytes, shared_per_block);
        copy_out(mmca_cuda_device_name(device), name, name_size);
    });
}

int mmca_cuda_c_support_problem(int device, int dtype, int math, int dim_head, char *problem, int size) {
    return guarded([&] { copy_out(mmca_cuda_support_problem(device, dtype, math, dim_head), problem, size); });
}

int mmca_cuda_c_validate(const mmca_attention_params *params, int math) {
    return guarded([&] { mmca_cuda_validate(params, math); });
}

int mmca_cuda_c_workspace_bytes(int device, const mmca_attention_params *params, int math, int64_t *bytes) {
    return guarded([&] {
        const int64_t n = mmca_cuda_workspace_bytes(device, params, math);
        if (bytes != nullptr) *bytes = n;
    });
}

int mmca_cuda_c_text_workspace_bytes(int device, const mmca_text_params *params, int math, int64_t *bytes) {
    return guarded([&] {
        const int64_t n = mmca_cuda_text_workspace_bytes(device, params, math);
        if (bytes != nullptr) *bytes = n;
    });
}

int mmca_cuda_c_attention(int device, const mmca_attention_params *params, int math, int64_t workspace,
                          int64_t workspace_bytes, int64_t stream) {
    return guarded([&] { mmca_cuda_attention(device, params, math, workspace, workspace_bytes, stream); });
}

int mmca_cuda_c_text(int device, const mmca_text_params *params, int math, int64_t workspace, int64_t workspace_bytes,
                     int64_t stream) {
    return guarded([&] { mmca_cuda_text(device, params, math, workspace, workspace_bytes, stream); });
}

int mmca_cuda_c_synchronize(int device, int64_t stream) {
    return guarded([&] { mmca_cuda_synchronize(device, stream); });
}

}  // extern "C"
