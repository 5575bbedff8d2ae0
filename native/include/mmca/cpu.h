/*
 * The native CPU backend: the operations of a forward plan (dev.mmca.plan) over native memory: fused
 * float32 attention kernels, the fused two-softmax text attention, projections over weights packed once
 * (through OpenBLAS sgemm), and an element-wise addition. The composition of the model is not here;
 * the Java side runs its plan with these operations.
 *
 * Every function validates its arguments on entry. Errors are reported by throwing a C++
 * std::exception whose what() names the argument, what was expected and what came (for example
 * "mmca_attention_params.kv_heads: expected a divisor of heads=8, got 3"); the Java bindings turn it
 * into a java.lang.RuntimeException. Nothing here calls exit() or abort().
 *
 * All functions are safe to call from several threads at once, except mmca_cpu_set_threads and
 * mmca_cpu_set_isa, which must not run concurrently with a computation.
 */
#ifndef MMCA_CPU_H
#define MMCA_CPU_H

#include <stdint.h>

#include "mmca/attention_params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Fused attention (SPEC "One grouped-query attention block", steps 2 to 5) ---- */

/*
 * out = attention(q, k, v) as mmca_attention_params describes; dtype must be MMCA_DTYPE_F32. Returns -1, or
 * b * queries + i of the first query row whose logits overflowed float32 (an infinite or NaN score from
 * finite inputs; that row's output is not meaningful).
 */
int64_t mmca_cpu_attention(const mmca_attention_params *params);

/*
 * The fused MMCA text operation: self and cross attention over the same query rows with separate
 * softmaxes, in one pass over the query tiles. Both problems must agree on batch, heads, kv_heads,
 * queries and dim_head. Returns -1, the first overflowed row of the self half (b * queries + i), or
 * batch * queries plus the first overflowed row of the cross half.
 */
int64_t mmca_cpu_text_attention(const mmca_text_params *params);

/*
 * Interleaved multi-modal causal attention (mmca_interleaved_params): two softmaxes per query row, text and
 * image, in one pass over the key tiles, each score computed once; dtype MMCA_DTYPE_F32. Returns -1, or
 * b * queries + i of the first query row whose logits overflowed float32.
 */
int64_t mmca_cpu_interleaved_attention(const mmca_interleaved_params *params);

/* ---- Projections ---- */

/*
 * A weight matrix [out, in] (PyTorch nn.Linear layout, y = x W^T), copied and packed once into the layout the
 * projection kernels read; free with mmca_cpu_weights_free.
 */
typedef struct mmca_cpu_weights mmca_cpu_weights;

mmca_cpu_weights *mmca_cpu_weights_create(const float *w, int64_t out, int64_t in);

/*
 * Bytes of packed weights held: the copy made at creation, plus, once a call of mmca_cpu_linear has had at most
 * 8 rows (a decoding step), a second copy in the layout those calls stream (column panels of 8).
 */
int64_t mmca_cpu_weights_bytes(const mmca_cpu_weights *weights);

/* Frees packed weights; NULL is ignored. */
void mmca_cpu_weights_free(mmca_cpu_weights *weights);

/*
 * y[r, 0:out] = x[r, 0:in] W^T for r < rows, where x has row stride ldx >= in and y row stride ldy >= out
 * (elements). Rows are split into blocks that depend on the shapes only, so results never depend on the
 * thread count. Returns -1, or r * out + j of the first output that is not finite (an overflow of float32).
 */
int64_t mmca_cpu_linear(const mmca_cpu_weights *weights, const float *x, int64_t ldx, float *y, int64_t ldy,
                        int64_t rows);

/* out[i] = a[i] + b[i] for i < n (out may alias a or b). Returns -1, or the first i whose sum is not finite. */
int64_t mmca_cpu_add(float *out, const float *a, const float *b, int64_t n);

/*
 * For r < count with rows[r] >= 0: dst[rows[r] * dst_ld + c] = src[r * src_ld + c] for c < width (src and dst
 * already offset to their first column). Appends new keys and values to a decoding cache (negative rows:
 * padding, skipped). Destination rows must be distinct.
 */
void mmca_cpu_scatter_rows(const float *src, int64_t src_ld, float *dst, int64_t dst_ld, int64_t width,
                           const int32_t *rows, int64_t count);

/* ---- The parameter block ---- */

/* sizeof(mmca_attention_params) as this library was compiled (the Java side checks it at load). */
int32_t mmca_cpu_params_size(void);

/* mmca_attention_params_format of *params into buf (size bytes); returns the formatted length. */
int32_t mmca_cpu_format_params(const mmca_attention_params *params, char *buf, int32_t size);

/* sizeof(mmca_interleaved_params) as this library was compiled. */
int32_t mmca_cpu_interleaved_params_size(void);

/* mmca_interleaved_params_format of *params into buf (size bytes); returns the formatted length. */
int32_t mmca_cpu_format_interleaved_params(const mmca_interleaved_params *params, char *buf, int32_t size);

/* ---- Runtime settings and information ---- */

/* Threads used by every computation (the calling thread included); n >= 1. */
void mmca_cpu_set_threads(int32_t n);
int32_t mmca_cpu_threads(void);

/*
 * The kernel instruction set in use: "avx512", "avx2" or "portable". Chosen at load time from cpuid
 * (the best one the CPU runs), lowered by the environment variable MMCA_CPU_ISA. mmca_cpu_set_isa
 * selects a path explicitly and throws if the CPU cannot run it.
 */
const char *mmca_cpu_isa(void);
void mmca_cpu_set_isa(const char *name);

/* OpenBLAS's kernel set in use (openblas_get_corename), e.g. "Haswell" or "SkylakeX". */
const char *mmca_cpu_blas_core(void);

/* What cpuid reported, e.g. "avx512f avx512bw avx512vl avx2 fma sse2". */
const char *mmca_cpu_features(void);

/*
 * OpenBLAS sgemm throughput in GFLOP/s for n x n x n (2 n^3 flops), best of `repeats` runs: the better of
 * OpenBLAS threading the call itself over mmca_cpu_threads() threads and the blocked path of
 * mmca_cpu_linear. A benchmark routine: do not run it concurrently with other computations.
 */
double mmca_cpu_sgemm_gflops(int32_t n, int32_t repeats);

/*
 * The fp32 FMA peak of this machine in GFLOP/s: every thread of the pool runs independent chains of vector
 * FMAs of the kernel path in use (best over about `seconds`). The yardstick of every GFLOP/s figure.
 */
double mmca_cpu_fma_peak_gflops(double seconds);

/* The read bandwidth of memory in GB/s: the pool's threads sum a `bytes` buffer, best of `repeats`. */
double mmca_cpu_read_bandwidth_gbs(int64_t bytes, int32_t repeats);

/* Bytes currently allocated through malloc in this process (all arenas and mmapped blocks); for leak tests. */
int64_t mmca_cpu_malloc_in_use(void);

#ifdef __cplusplus
}
#endif

#endif /* MMCA_CPU_H */
