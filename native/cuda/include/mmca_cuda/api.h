/*
 * The host API of the CUDA kernel library, in plain C++ (no CUDA headers), so that the JNI glue can
 * include it with an ordinary C++ compiler.
 *
 * An attention problem travels as a flat int64 descriptor (slots below) instead of a struct, which
 * keeps the Java binding to a plain long[]; the library unpacks it into mmca_attention_params
 * (native/include/mmca/attention_params.h) and validates every field before any launch.
 *
 * Errors: every function that can fail throws std::invalid_argument (bad arguments, message names the
 * argument) or std::runtime_error (CUDA failures, message names the call and the CUDA error). Nothing
 * here calls exit or abort.
 */
#ifndef MMCA_CUDA_API_H
#define MMCA_CUDA_API_H

#include <stdint.h>

/* Descriptor slots of one attention problem (int64 each; pointers are device addresses). */
enum mmca_cuda_desc_slot {
    MMCA_DESC_Q = 0, MMCA_DESC_K, MMCA_DESC_V, MMCA_DESC_O,
    MMCA_DESC_Q_BATCH_STRIDE, MMCA_DESC_Q_ROW_STRIDE, MMCA_DESC_Q_HEAD_STRIDE,
    MMCA_DESC_K_BATCH_STRIDE, MMCA_DESC_K_ROW_STRIDE, MMCA_DESC_K_HEAD_STRIDE,
    MMCA_DESC_V_BATCH_STRIDE, MMCA_DESC_V_ROW_STRIDE, MMCA_DESC_V_HEAD_STRIDE,
    MMCA_DESC_O_BATCH_STRIDE, MMCA_DESC_O_ROW_STRIDE, MMCA_DESC_O_HEAD_STRIDE,
    MMCA_DESC_KEY_MASK, MMCA_DESC_KEY_MASK_BATCH_STRIDE,
    MMCA_DESC_QUERY_MASK, MMCA_DESC_QUERY_MASK_BATCH_STRIDE,
    MMCA_DESC_BATCH, MMCA_DESC_HEADS, MMCA_DESC_KV_HEADS, MMCA_DESC_QUERIES, MMCA_DESC_KEYS, MMCA_DESC_DIM_HEAD,
    MMCA_DESC_SCALE_BITS, /* the float scale's IEEE-754 bits (Float.floatToRawIntBits) */
    MMCA_DESC_CAUSAL, MMCA_DESC_QK_NORM, MMCA_DESC_HEAD_MAPPING, MMCA_DESC_DTYPE,
    MMCA_DESC_LEN
};

/* How the kernels multiply: exact fp32 on CUDA cores, or tensor cores (TF32 for fp32 data; fp16/bf16 data always use tensor cores). */
enum mmca_cuda_math {
    MMCA_MATH_EXACT = 0,
    MMCA_MATH_TENSOR_CORE = 1
};

/* Number of descriptor slots this library expects (the Java side checks it matches its own). */
int mmca_cuda_desc_len();

/* Checks that the NVIDIA driver library can be opened: returns an empty string, or why not (e.g. dlopen's message). */
const char *mmca_cuda_driver_problem();

/* cudaGetDeviceCount through the statically linked runtime: returns the cudaError_t code (0 = success). */
int mmca_cuda_device_count(int *count);

/* cudaGetErrorName + cudaGetErrorString for a code, e.g. "cudaErrorNoDevice: no CUDA-capable device is detected". */
const char *mmca_cuda_error_string(int code);

/* Compute capability and total memory of a device; throws on failure. */
void mmca_cuda_device_info(int device, int *major, int *minor, int64_t *total_bytes);

/* The device's name (static storage per call thread); throws on failure. */
const char *mmca_cuda_device_name(int device);

/* Validates one descriptor without touching the GPU (host code only); throws std::invalid_argument. */
void mmca_cuda_validate(const int64_t *desc, int len, int math);

/* Validates a self + cross pair for the fused text operation (host code only); throws std::invalid_argument. */
void mmca_cuda_validate_text(const int64_t *self_desc, const int64_t *cross_desc, int len, int math);

/* Fused masked GQA attention on `stream` (a cudaStream_t as int64, 0 = default stream); asynchronous. */
void mmca_cuda_attention(const int64_t *desc, int len, int math, int64_t stream);

/*
 * The fused MMCA text operation: self and cross attention over the same queries with separate
 * softmaxes, one launch; each writes its own output (normally the two halves of one wide buffer).
 */
void mmca_cuda_text(const int64_t *self_desc, const int64_t *cross_desc, int len, int math, int64_t stream);

/* out[i] = a[i] + b[i] for n elements of `dtype` (enum mmca_dtype) on `stream` (the SEED composition's t + visual). */
void mmca_cuda_add(int64_t out, int64_t a, int64_t b, int64_t n, int dtype, int64_t stream);

/* Converts n fp32 elements to fp16 (dtype 1) or bf16 (dtype 2), or back (to_f32 != 0). */
void mmca_cuda_convert(int64_t dst, int64_t src, int64_t n, int dtype, int to_f32, int64_t stream);

/* Waits for `stream` and reports any asynchronous kernel error; throws std::runtime_error. */
void mmca_cuda_synchronize(int64_t stream);

#endif /* MMCA_CUDA_API_H */
