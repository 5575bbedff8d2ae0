/*
 * The one plain parameter block every attention kernel takes, CPU and CUDA alike.
 *
 * Semantics (SPEC.md, "One grouped-query attention block", steps 2-5):
 *   out[b, i, h, :] = sum_j softmax_j(scale * q[b, i, h, :] . k[b, j, g(h), :]) * v[b, j, g(h), :]
 * over the keys j that query i may see:
 *   key_mask[b, j] != 0 (when key_mask is not NULL) and, when causal, j <= i + (keys - queries).
 * g(h) = h % kv_heads (MMCA_HEAD_MAPPING_MODULO) or h / (heads / kv_heads) (MMCA_HEAD_MAPPING_GROUPED).
 * With qk_norm, q and k head vectors are L2-normalised (divided by max(||x||, 1e-12)) first.
 * A query with no visible key, or with query_mask[b, i] == 0, gets an all-zero output row.
 *
 * Every stride is in elements (not bytes) and 64-bit, so a caller can point q, k and v into one
 * packed projection output ([rows, (H + 2G) * D]) and o into one half of a wider buffer.
 *
 * This block is the one encoding of an attention problem: the CPU and CUDA libraries take it as it is,
 * and the Java side (dev.mmca.plan.AttentionParamsLayout) writes it byte by byte at the offsets fixed
 * below (LP64: pointers and int64 are 8 bytes, int32 and float 4, no hidden padding). The static
 * assertions keep this header and those offsets the same; mmca_attention_params_format prints every
 * field, which the Java tests compare against what they wrote.
 */
#ifndef MMCA_ATTENTION_PARAMS_H
#define MMCA_ATTENTION_PARAMS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mmca_head_mapping {
    MMCA_HEAD_MAPPING_MODULO = 0,
    MMCA_HEAD_MAPPING_GROUPED = 1
};

enum mmca_dtype {
    MMCA_DTYPE_F32 = 0,
    MMCA_DTYPE_F16 = 1,
    MMCA_DTYPE_BF16 = 2
};

typedef struct mmca_attention_params {
    const void *q;  /* [batch, queries, heads, dim_head] through the strides below */
    const void *k;  /* [batch, keys, kv_heads, dim_head] */
    const void *v;  /* [batch, keys, kv_heads, dim_head] */
    void *o;        /* [batch, queries, heads, dim_head] */

    int64_t q_batch_stride, q_row_stride, q_head_stride;
    int64_t k_batch_stride, k_row_stride, k_head_stride;
    int64_t v_batch_stride, v_row_stride, v_head_stride;
    int64_t o_batch_stride, o_row_stride, o_head_stride;

    const uint8_t *key_mask;    /* [batch, keys], 1 = real token; NULL = all real */
    int64_t key_mask_batch_stride;
    const uint8_t *query_mask;  /* [batch, queries], 0 rows get zero output; NULL = all real */
    int64_t query_mask_batch_stride;

    int32_t batch, heads, kv_heads, queries, keys, dim_head;
    float scale;           /* dim_head^-0.5, or 10 with qk_norm */
    int32_t causal;        /* nonzero: key j visible to query i only if j <= i + (keys - queries) */
    int32_t qk_norm;       /* nonzero: L2-normalise q and k head vectors */
    int32_t head_mapping;  /* enum mmca_head_mapping */
    int32_t dtype;         /* enum mmca_dtype of q, k, v and o */
    int32_t reserved;      /* zero; keeps the next field 8-byte aligned without hidden padding */

    /*
     * Incremental decoding (a key/value cache of `keys` rows per batch element, partly filled):
     * key_lengths[b] keys are valid in batch element b (later keys are never visible; values are clamped
     * to [0, keys]); NULL = all `keys`. With causal, query i of batch element b sees keys
     * j <= query_positions[b * query_positions_batch_stride + i] (a negative position sees none); NULL =
     * the right-aligned rule j <= i + (keys - queries) above. Host memory on the CPU, device memory on CUDA.
     */
    const int32_t *key_lengths;
    const int32_t *query_positions;
    int64_t query_positions_batch_stride;
} mmca_attention_params;

#ifdef __cplusplus
#define MMCA_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define MMCA_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

/* The byte layout, as dev.mmca.plan.AttentionParamsLayout writes it. */
#define MMCA_ATTENTION_PARAMS_SIZE 232
MMCA_STATIC_ASSERT(sizeof(void *) == 8, "mmca_attention_params assumes 64-bit pointers");
MMCA_STATIC_ASSERT(sizeof(mmca_attention_params) == MMCA_ATTENTION_PARAMS_SIZE, "mmca_attention_params size");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, q_batch_stride) == 32, "q_batch_stride offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, o_head_stride) == 120, "o_head_stride offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, key_mask) == 128, "key_mask offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, query_mask_batch_stride) == 152, "query_mask_batch_stride offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, batch) == 160, "batch offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, dim_head) == 180, "dim_head offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, scale) == 184, "scale offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, dtype) == 200, "dtype offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, key_lengths) == 208, "key_lengths offset");
MMCA_STATIC_ASSERT(offsetof(mmca_attention_params, query_positions_batch_stride) == 224, "query_positions_batch_stride offset");

/*
 * Every field of *p as "name=value" pairs in declaration order (pointers in hex, the scale with 9
 * significant digits), into buf of `size` bytes; returns what snprintf returns. For logs, and for the
 * tests that check a writer of this block field by field.
 */
static inline int mmca_attention_params_format(const mmca_attention_params *p, char *buf, size_t size) {
    return snprintf(buf, size,
        "q=%llx k=%llx v=%llx o=%llx"
        " q_strides=%lld,%lld,%lld k_strides=%lld,%lld,%lld v_strides=%lld,%lld,%lld o_strides=%lld,%lld,%lld"
        " key_mask=%llx,%lld query_mask=%llx,%lld"
        " batch=%d heads=%d kv_heads=%d queries=%d keys=%d dim_head=%d scale=%.9g"
        " causal=%d qk_norm=%d head_mapping=%d dtype=%d reserved=%d key_lengths=%llx query_positions=%llx,%lld",
        (unsigned long long)(uintptr_t)p->q, (unsigned long long)(uintptr_t)p->k,
        (unsigned long long)(uintptr_t)p->v, (unsigned long long)(uintptr_t)p->o,
        (long long)p->q_batch_stride, (long long)p->q_row_stride, (long long)p->q_head_stride,
        (long long)p->k_batch_stride, (long long)p->k_row_stride, (long long)p->k_head_stride,
        (long long)p->v_batch_stride, (long long)p->v_row_stride, (long long)p->v_head_stride,
        (long long)p->o_batch_stride, (long long)p->o_row_stride, (long long)p->o_head_stride,
        (unsigned long long)(uintptr_t)p->key_mask, (long long)p->key_mask_batch_stride,
        (unsigned long long)(uintptr_t)p->query_mask, (long long)p->query_mask_batch_stride,
        p->batch, p->heads, p->kv_heads, p->queries, p->keys, p->dim_head, (double)p->scale,
        p->causal, p->qk_norm, p->head_mapping, p->dtype, p->reserved,
        (unsigned long long)(uintptr_t)p->key_lengths, (unsigned long long)(uintptr_t)p->query_positions,
        (long long)p->query_positions_batch_stride);
}

/*
 * The fused MMCA text operation: two attention problems over the same text queries, each with its
 * own softmax, computed in one pass over the query tiles. `self` is the (causal) textual
 * self-attention, `cross` the cross-attention to the visual tokens; their outputs are normally laid
 * side by side in one [rows, 2 * heads * dim_head] buffer so that a single output GEMM yields
 * text = o_self * Wo_text^T + o_cross * Wo_cross^T.
 */
typedef struct mmca_text_params {
    mmca_attention_params self;
    mmca_attention_params cross;
} mmca_text_params;

MMCA_STATIC_ASSERT(sizeof(mmca_text_params) == 2 * MMCA_ATTENTION_PARAMS_SIZE, "mmca_text_params size");

/*
 * Interleaved multi-modal causal attention (SPEC.md, "Interleaved MMCA"; DeepSpeed-VisualChat): the problem
 * of `attention` (causal = 1, key_mask = query_mask = NULL; key_lengths and query_positions as above) whose keys
 * carry a modality, modality[b * modality_batch_stride + j]: 0 padding, 1 text, 2 image. Query i sits at key
 * position p = query_positions[...] (or i + keys - queries); it is a real token when 0 <= p < key length and
 * modality[p] != 0, of modality t = modality[p]; other rows are zero. Each real row keeps two softmaxes,
 *   o_i = sum_{j in T} softmax_T(s_i)_j v_j + sum_{j in I} softmax_I(s_i)_j v_j   (an empty group adds 0),
 * over key sets (padding keys and keys past the length never belong to one):
 *   t = 1 (text):                 T = {text j <= p},  I = {image j <= p}
 *   t = 2, MMCA_IMAGE_RULE_SELF:  T = {text j <= p},  I = {p}
 *   t = 2, MMCA_IMAGE_RULE_BLOCK: T = {},  I = {image j with no text key between j and p}  (its image, both ways)
 */
enum mmca_image_rule {
    MMCA_IMAGE_RULE_SELF = 0,
    MMCA_IMAGE_RULE_BLOCK = 1
};

typedef struct mmca_interleaved_params {
    mmca_attention_params attention;
    const uint8_t *modality;        /* [batch, keys]: 0 padding, 1 text, 2 image */
    int64_t modality_batch_stride;  /* bytes */
    int32_t image_rule;             /* enum mmca_image_rule */
    int32_t reserved;               /* zero */
} mmca_interleaved_params;

/* The byte layout, as dev.mmca.plan.InterleavedParamsLayout writes it. */
#define MMCA_INTERLEAVED_PARAMS_SIZE 256
MMCA_STATIC_ASSERT(sizeof(mmca_interleaved_params) == MMCA_INTERLEAVED_PARAMS_SIZE, "mmca_interleaved_params size");
MMCA_STATIC_ASSERT(offsetof(mmca_interleaved_params, modality) == MMCA_ATTENTION_PARAMS_SIZE, "modality offset");
MMCA_STATIC_ASSERT(offsetof(mmca_interleaved_params, modality_batch_stride) == 240, "modality_batch_stride offset");
MMCA_STATIC_ASSERT(offsetof(mmca_interleaved_params, image_rule) == 248, "image_rule offset");
MMCA_STATIC_ASSERT(offsetof(mmca_interleaved_params, reserved) == 252, "reserved offset");

/*
 * mmca_attention_params_format of the embedded block, then " modality=%llx,%lld image_rule=%d reserved=%d";
 * returns the total length snprintf would write.
 */
static inline int mmca_interleaved_params_format(const mmca_interleaved_params *p, char *buf, size_t size) {
    int n = mmca_attention_params_format(&p->attention, buf, size);
    if (n < 0) return n;
    size_t used = (size_t)n < size ? (size_t)n : (size > 0 ? size - 1 : 0);
    int m = snprintf(size > used ? buf + used : NULL, size > used ? size - used : 0,
        " modality=%llx,%lld image_rule=%d reserved=%d",
        (unsigned long long)(uintptr_t)p->modality, (long long)p->modality_batch_stride, p->image_rule, p->reserved);
    return m < 0 ? m : n + m;
}

#ifdef __cplusplus
}
#endif

#endif /* MMCA_ATTENTION_PARAMS_H */
