/*
 * The host API of the CUDA kernel library, in plain C++ (no CUDA headers), so that the JNI glue can
 * include it with an ordinary C++ compiler.
 *
 * An attention problem travels as the one shared parameter block, mmca_attention_params
 * (native/include/mmca/attention_params.h), in host memory; its pointers are device addresses. Every
 * field is validated before any launch.
 *
 * Devices: every function that touches the GPU takes the caller's device ordinal and makes it current in
 * this library's (statically linked) CUDA runtime first, so the device a caller chose is the device the
 * kernels run on, whatever other runtimes in the process have selected.
 *
 * Errors: every function that can fail throws std::invalid_argument (bad arguments, message names the
 * argument) or std::runtime_error (CUDA failures, message names the call and the CUDA error). Nothing
 * here calls exit or abort.
 */
#ifndef MMCA_CUDA_API_H
#define MMCA_CUDA_API_H

#include <stdint.h>

#include "mmca/attention_params.h"

/* How the kernels multiply: exact fp32 on CUDA cores, or tensor cores (TF32 for fp32 data; fp16/bf16 data always use tensor cores). */
enum mmca_cuda_math {
    MMCA_MATH_EXACT = 0,
    MMCA_MATH_TENSOR_CORE = 1
};

/* sizeof(mmca_attention_params) as this library was compiled (the Java side checks it at load). */
int mmca_cuda_params_size();

/* mmca_attention_params_format of *params into buf (size bytes); returns the formatted length. */
int mmca_cuda_format_params(const mmca_attention_params *params, char *buf, int size);

/* The head widths with compiled kernels, ascending, into out (up to capacity); returns how many there are. */
int mmca_cuda_dim_heads(int32_t *out, int capacity);

/* Checks that the NVIDIA driver library can be opened: returns an empty string, or why not (e.g. dlopen's message). */
const char *mmca_cuda_driver_problem();

/* cudaGetDeviceCount through the statically linked runtime: returns the cudaError_t code (0 = success). */
int mmca_cuda_device_count(int *count);

/* cudaGetErrorName + cudaGetErrorString for a code, e.g. "cudaErrorNoDevice: no CUDA-capable device is detected". */
const char *mmca_cuda_error_string(int code);

/* Compute capability, total memory and the largest opt-in shared memory per block of a device; throws on failure. */
void mmca_cuda_device_info(int device, int *major, int *minor, int64_t *total_bytes, int64_t *shared_per_block);

/* The device's name (static storage per call thread); throws on failure. */
const char *mmca_cuda_device_name(int device);

/* Validates one block without touching the GPU (host code only); throws std::invalid_argument. */
void mmca_cuda_validate(const mmca_attention_params *params, int math);

/* Validates a self + cross pair for the fused text operation (host code only); throws std::invalid_argument. */
void mmca_cuda_validate_text(const mmca_text_params *params, int math);

/* Fused masked GQA attention on `stream` (a cudaStream_t as int64, 0 = default stream) of `device`; asynchronous. */
void mmca_cuda_attention(int device, const mmca_attention_params *params, int math, int64_t stream);

/*
 * The fused MMCA text operation: self and cross attention over the same queries with separate
 * softmaxes, one launch; each writes its own output (normally the two halves of one wide buffer).
 */
void mmca_cuda_text(int device, const mmca_text_params *params, int math, int64_t stream);

/* out[i] = a[i] + b[i] for n elements of `dtype` (enum mmca_dtype) on `stream` (the SEED composition's t + visual). */
void mmca_cuda_add(int device, int64_t out, int64_t a, int64_t b, int64_t n, int dtype, int64_t stream);

/* Converts n fp32 elements to fp16 (dtype 1) or bf16 (dtype 2), or back (to_f32 != 0). */
void mmca_cuda_convert(int device, int64_t dst, int64_t src, int64_t n, int dtype, int to_f32, int64_t stream);

/* Waits for `stream` and reports any asynchronous kernel error; throws std::runtime_error. */
void mmca_cuda_synchronize(int device, int64_t stream);

#endif /* MMCA_CUDA_API_H */
