/*
 * A C interface to api.h for callers that cannot catch C++ exceptions (C, Python ctypes): the same
 * functions with C linkage, returning a status instead of throwing:
 *   0  success
 *   1  std::invalid_argument (bad arguments, or a problem the device does not support)
 *   2  std::runtime_error (a CUDA failure) or any other error
 * and the failed call's message from mmca_cuda_c_last_error() (per call thread, until the next call).
 */
#ifndef MMCA_CUDA_C_API_H
#define MMCA_CUDA_C_API_H

#include <stdint.h>

#include "mmca/attention_params.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *mmca_cuda_c_last_error(void);

int mmca_cuda_c_params_size(void);
int mmca_cuda_c_format_params(const mmca_attention_params *params, char *buf, int size, int *length);
int mmca_cuda_c_dim_heads(int32_t *out, int capacity);
const char *mmca_cuda_c_driver_problem(void);
/* *cuda_error gets cudaGetDeviceCount's cudaError_t (0 = success), as mmca_cuda_device_count returns it. */
int mmca_cuda_c_device_count(int *count, int *cuda_error);
int mmca_cuda_c_device_info(int device, int *major, int *minor, int64_t *total_bytes, int64_t *shared_per_block,
                            char *name, int name_size);
/* *problem (size bytes) gets "" when supported, else the reason (mmca_cuda_support_problem). */
int mmca_cuda_c_support_problem(int device, int dtype, int math, int dim_head, char *problem, int size);
int mmca_cuda_c_validate(const mmca_attention_params *params, int math);
int mmca_cuda_c_workspace_bytes(int device, const mmca_attention_params *params, int math, int64_t *bytes);
int mmca_cuda_c_text_workspace_bytes(int device, const mmca_text_params *params, int math, int64_t *bytes);
int mmca_cuda_c_attention(int device, const mmca_attention_params *params, int math, int64_t workspace,
                          int64_t workspace_bytes, int64_t stream);
int mmca_cuda_c_text(int device, const mmca_text_params *params, int math, int64_t workspace, int64_t workspace_bytes,
                     int64_t stream);
int mmca_cuda_c_synchronize(int device, int64_t stream);

#ifdef __cplusplus
}
#endif

#endif /* MMCA_CUDA_C_API_H */
