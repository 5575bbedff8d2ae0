/*
 * The native CPU backend: fused float32 attention kernels and a whole SimpleMMCA forward over
 * weights packed once, with projections through OpenBLAS sgemm.
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

/* out = attention(q, k, v) as mmca_attention_params describes; dtype must be MMCA_DTYPE_F32. */
void mmca_cpu_attention(const mmca_attention_params *params);

/*
 * The fused MMCA text operation: self and cross attention over the same query rows with separate
 * softmaxes, in one pass over the query tiles. Both problems must agree on batch, heads, kv_heads,
 * queries and dim_head.
 */
void mmca_cpu_text_attention(const mmca_text_params *params);

/* ---- Whole SimpleMMCA model ---- */

enum mmca_composition {
    MMCA_COMPOSITION_CROSS = 0,
    MMCA_COMPOSITION_SEED = 1
};

/*
 * Hyper-parameters and the twelve weight matrices, PyTorch nn.Linear layout [out, in]:
 * *_q [heads*dim_head, dim], *_k and *_v [kv_heads*dim_head, dim], *_out [dim, heads*dim_head].
 * The weights are copied (packed) by mmca_cpu_model_create and may be freed afterwards.
 */
typedef struct mmca_cpu_model_desc {
    int32_t dim, heads, kv_heads, dim_head;
    int32_t causal;        /* textual self-attention causal (CROSS); every block causal (SEED) */
    int32_t qk_norm;
    int32_t composition;   /* enum mmca_composition */
    int32_t head_mapping;  /* enum mmca_head_mapping */
    const float *visual_q, *visual_k, *visual_v, *visual_out;
    const float *textual_q, *textual_k, *textual_v, *textual_out;
    const float *cross_q, *cross_k, *cross_v, *cross_out;
} mmca_cpu_model_desc;

typedef struct mmca_cpu_model mmca_cpu_model;

/* Packs the weights; the result must be released with mmca_cpu_model_free. */
mmca_cpu_model *mmca_cpu_model_create(const mmca_cpu_model_desc *desc);

/*
 * One forward: visual [batch, visual_tokens, dim], text [batch, text_tokens, dim], optional masks
 * ([batch, tokens] bytes, 1 = real token; NULL = all real). Writes visual_out and text_out
 * completely. Safe to call concurrently on one model (every call has its own scratch).
 */
void mmca_cpu_model_forward(const mmca_cpu_model *model, const float *visual, const float *text,
                            const uint8_t *visual_mask, const uint8_t *text_mask, float *visual_out,
                            float *text_out, int32_t batch, int32_t visual_tokens, int32_t text_tokens);

/* Bytes of packed weights the model holds. */
int64_t mmca_cpu_model_bytes(const mmca_cpu_model *model);

/* Frees the model; NULL is ignored. */
void mmca_cpu_model_free(mmca_cpu_model *model);

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

/* What cpuid reported, e.g. "avx512f avx512bw avx512vl avx2 fma sse2". */
const char *mmca_cpu_features(void);

/*
 * OpenBLAS sgemm throughput in GFLOP/s for n x n x n (2 n^3 flops), best of `repeats` runs: the better of
 * OpenBLAS threading the call itself over mmca_cpu_threads() threads and the blocked path of
 * mmca_cpu_linear. A benchmark routine: do not run it concurrently with other computations.
 */
double mmca_cpu_sgemm_gflops(int32_t n, int32_t repeats);

/*
 * C [rows, cols] = A [rows, k] * W_T [k, cols] (a weight stored transposed), the projection path of the
 * model: OpenBLAS sgemm in row/column blocks over the threads (for tests and benchmarks).
 */
void mmca_cpu_linear(const float *a, const float *w_t, float *c, int64_t rows, int64_t cols, int64_t k);

/* Bytes currently allocated through malloc in this process (all arenas and mmapped blocks); for leak tests. */
int64_t mmca_cpu_malloc_in_use(void);

#ifdef __cplusplus
}
#endif

#endif /* MMCA_CPU_H */
