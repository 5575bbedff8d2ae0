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
 */
#ifndef MMCA_ATTENTION_PARAMS_H
#define MMCA_ATTENTION_PARAMS_H

#include <stdint.h>

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
} mmca_attention_params;

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

#ifdef __cplusplus
}
#endif

#endif /* MMCA_ATTENTION_PARAMS_H */
