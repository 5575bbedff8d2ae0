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

/*
 * How the kernels multiply. MMCA_MATH_EXACT (fp32 data only): fp32 accuracy (SPEC: 1e-5 relative to
 * float64), as 3xTF32 split products on the tensor cores. MMCA_MATH_TENSOR_CORE: tf32 products for fp32
 * data; fp16/bf16 data always use their tensor-core products, with fp32 softmax and accumulation.
 */
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

/*
 * Whether `device` can run the kernels for (dtype, math, dim_head): an empty string, or the reason not
 * (an unsupported argument, compute capability below 8.0, or more shared memory per block than the
 * device allows). The launches below refuse the same cases with the same reason (std::invalid_argument).
 * Static storage per call thread; throws std::runtime_error only when the device cannot be queried.
 */
const char *mmca_cuda_support_problem(int device, int dtype, int math, int dim_head);

/* Validates one block without touching the GPU (host code only); throws std::invalid_argument. */
void mmca_cuda_validate(const mmca_attention_params *params, int math);

/* Validates a self + cross pair for the fused text operation (host code only); throws std::invalid_argument. */
void mmca_cuda_validate_text(const mmca_text_params *params, int math);

/*
 * Split-K workspace. Where a launch would leave the device mostly idle (few query rows per kv head, as in
 * decoding steps, over long key ranges), the kernels split each tile's key range over several CTAs, write
 * partial results to a device workspace and combine them in a second kernel on the same stream. The
 * caller owns that memory:
 *   - mmca_cuda_workspace_bytes / mmca_cuda_text_workspace_bytes: the bytes the launch would use on
 *     `device` for this problem (0: it runs unsplit). It depends on the shapes and the device, not on the
 *     data pointers, so one query serves every step of the same shape.
 *   - the launches take (workspace, workspace_bytes): a device pointer, 16-byte aligned, or 0 with 0
 *     bytes. With less than the query's answer they split less (with 0, not at all): always correct, only
 *     the speed differs. The workspace is in use until the launch's work on `stream` completes; two
 *     launches in flight at once (other streams) need different workspaces.
 * Validates like mmca_cuda_validate; throws std::runtime_error when the device cannot be queried.
 */
int64_t mmca_cuda_workspace_bytes(int device, const mmca_attention_params *params, int math);

int64_t mmca_cuda_text_workspace_bytes(int device, const mmca_text_params *params, int math);

/* Fused masked GQA attention on `stream` (a cudaStream_t as int64, 0 = default stream) of `device`; asynchronous. */
void mmca_cuda_attention(int device, const mmca_attention_params *params, int math, int64_t workspace,
                         int64_t workspace_bytes, int64_t stream);

/*
 * The fused MMCA text operation: self and cross attention over the same queries with separate
 * softmaxes, in one launch whose CTAs hold either problem's tiles (side by side on the device); each
 * writes its own output (normally the two halves of one wide buffer).
 */
void mmca_cuda_text(int device, const mmca_text_params *params, int math, int64_t workspace, int64_t workspace_bytes,
                    int64_t stream);

/* sizeof(mmca_interleaved_params) as this library was compiled. */
int mmca_cuda_interleaved_params_size();

/* mmca_interleaved_params_format of *params into buf (size bytes); returns the formatted length. */
int mmca_cuda_format_interleaved_params(const mmca_interleaved_params *params, char *buf, int size);

/*
 * Validates an interleaved block without touching the GPU (host code only): its attention block (causal, no
 * masks; key lengths and query positions allowed), the image rule, the modality pointer and stride. The modality
 * values live in device memory and are not read here; the kernel treats a value other than 1 and 2 as padding.
 * Throws std::invalid_argument.
 */
void mmca_cuda_validate_interleaved(const mmca_interleaved_params *params, int math);

/*
 * Interleaved multi-modal causal attention (mmca_interleaved_params): two softmaxes per query row in one pass,
 * one launch, fp32 arithmetic on CUDA cores for every dtype (`math` is validated as for the other launches and
 * changes nothing here); asynchronous on `stream` of `device`.
 */
void mmca_cuda_interleaved(int device, const mmca_interleaved_params *params, int math, int64_t stream);

/* out[i] = a[i] + b[i] for n elements of `dtype` (enum mmca_dtype) on `stream` (the SEED composition's t + visual). */
void mmca_cuda_add(int device, int64_t out, int64_t a, int64_t b, int64_t n, int dtype, int64_t stream);

/* Converts n fp32 elements to fp16 (dtype 1) or bf16 (dtype 2), or back (to_f32 != 0). */
void mmca_cuda_convert(int device, int64_t dst, int64_t src, int64_t n, int dtype, int to_f32, int64_t stream);

/* Waits for `stream` and reports any asynchronous kernel error; throws std::runtime_error. */
void mmca_cuda_synchronize(int device, int64_t stream);

#endif /* MMCA_CUDA_API_H */
