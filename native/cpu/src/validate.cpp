#include "validate.h"

#include <cmath>

#include "errors.h"

namespace mmca::cpu {
namespace {

std::string str(long long v) { return std::to_string(v); }

void positive(const std::string &name, long long v) {
    if (v <= 0) fail(name + ": expected a positive integer, got " + str(v));
}

void non_negative(const std::string &name, long long v) {
    if (v < 0) fail(name + ": expected a non-negative stride, got " + str(v));
}

void non_null(const std::string &name, const void *p) {
    if (p == nullptr) fail(name + ": expected a non-null pointer, got NULL");
}

void same(const std::string &name, long long expected, const std::string &what, long long got) {
    if (expected != got) fail(name + ": expected the same as " + what + "=" + str(expected) + ", got " + str(got));
}

}  // namespace

void validate_attention(const mmca_attention_params *p, const std::string &name) {
    if (p == nullptr) fail(name + ": expected a non-null pointer, got NULL");
    const std::string n = name + ".";
    positive(n + "batch", p->batch);
    positive(n + "heads", p->heads);
    positive(n + "kv_heads", p->kv_heads);
    positive(n + "queries", p->queries);
    positive(n + "keys", p->keys);
    positive(n + "dim_head", p->dim_head);
    if (p->heads % p->kv_heads != 0) {
        fail(n + "kv_heads: expected a divisor of heads=" + str(p->heads) + ", got " + str(p->kv_heads));
    }
    if (p->dtype != MMCA_DTYPE_F32) {
        fail(n + "dtype: expected MMCA_DTYPE_F32 (0), the only type the CPU kernels compute in, got " + str(p->dtype));
    }
    if (p->head_mapping != MMCA_HEAD_MAPPING_MODULO && p->head_mapping != MMCA_HEAD_MAPPING_GROUPED) {
        fail(n + "head_mapping: expected MMCA_HEAD_MAPPING_MODULO (0) or MMCA_HEAD_MAPPING_GROUPED (1), got "
             + str(p->head_mapping));
    }
    if (!(std::isfinite(p->scale) && p->scale > 0)) {
        fail(n + "scale: expected a finite positive number, got " + std::to_string(p->scale));
    }
    non_null(n + "q", p->q);
    non_null(n + "k", p->k);
    non_null(n + "v", p->v);
    non_null(n + "o", p->o);
    non_negative(n + "q_batch_stride", p->q_batch_stride);
    non_negative(n + "q_row_stride", p->q_row_stride);
    non_negative(n + "q_head_stride", p->q_head_stride);
    non_negative(n + "k_batch_stride", p->k_batch_stride);
    non_negative(n + "k_row_stride", p->k_row_stride);
    non_negative(n + "k_head_stride", p->k_head_stride);
    non_negative(n + "v_batch_stride", p->v_batch_stride);
    non_negative(n + "v_row_stride", p->v_row_stride);
    non_negative(n + "v_head_stride", p->v_head_stride);
    non_negative(n + "o_batch_stride", p->o_batch_stride);
    non_negative(n + "o_row_stride", p->o_row_stride);
    non_negative(n + "o_head_stride", p->o_head_stride);
    if (p->key_mask != nullptr) non_negative(n + "key_mask_batch_stride", p->key_mask_batch_stride);
    if (p->query_mask != nullptr) non_negative(n + "query_mask_batch_stride", p->query_mask_batch_stride);
    // Distinct output rows must not overlap: the kernels write them from different threads.
    if (p->o_head_stride < p->dim_head && p->heads > 1) {
        fail(n + "o_head_stride: expected at least dim_head=" + str(p->dim_head) + ", got " + str(p->o_head_stride));
    }
    if (p->reserved != 0) fail(n + "reserved: expected 0, got " + str(p->reserved));
    if (p->query_positions != nullptr && p->batch > 1 && p->query_positions_batch_stride < p->queries) {
        fail(n + "query_positions_batch_stride: expected at least queries=" + str(p->queries) + ", got "
             + str(p->query_positions_batch_stride));
    }
    if (p->o_row_stride < static_cast<long long>(p->o_head_stride) * (p->heads - 1) + p->dim_head && p->queries > 1) {
        fail(n + "o_row_stride: expected at least (heads-1)*o_head_stride+dim_head="
             + str(static_cast<long long>(p->o_head_stride) * (p->heads - 1) + p->dim_head) + ", got "
             + str(p->o_row_stride));
    }
}

void validate_text(const mmca_text_params *p) {
    if (p == nullptr) fail("mmca_text_params: expected a non-null pointer, got NULL");
    validate_attention(&p->self, "mmca_text_params.self");
    validate_attention(&p->cross, "mmca_text_params.cross");
    same("mmca_text_params.cross.batch", p->self.batch, "self.batch", p->cross.batch);
    same("mmca_text_params.cross.heads", p->self.heads, "self.heads", p->cross.heads);
    same("mmca_text_params.cross.kv_heads", p->self.kv_heads, "self.kv_heads", p->cross.kv_heads);
    same("mmca_text_params.cross.queries", p->self.queries, "self.queries", p->cross.queries);
    same("mmca_text_params.cross.dim_head", p->self.dim_head, "self.dim_head", p->cross.dim_head);
}

void validate_interleaved(const mmca_interleaved_params *p) {
    if (p == nullptr) fail("mmca_interleaved_params: expected a non-null pointer, got NULL");
    const mmca_attention_params &a = p->attention;
    validate_attention(&a, "mmca_interleaved_params.attention");
    const std::string n = "mmca_interleaved_params.";
    if (a.causal != 1) {
        fail(n + "attention.causal: expected 1 (the text groups are causal), got " + str(a.causal));
    }
    if (a.key_mask != nullptr || a.query_mask != nullptr) {
        fail(n + "attention.key_mask: expected NULL key and query masks (the modality marks padding), got a mask");
    }
    if (p->image_rule != MMCA_IMAGE_RULE_SELF && p->image_rule != MMCA_IMAGE_RULE_BLOCK) {
        fail(n + "image_rule: expected MMCA_IMAGE_RULE_SELF (0) or MMCA_IMAGE_RULE_BLOCK (1), got " + str(p->image_rule));
    }
    if (p->reserved != 0) fail(n + "reserved: expected 0, got " + str(p->reserved));
    non_null(n + "modality", p->modality);
    if (a.batch > 1 && p->modality_batch_stride < a.keys) {
        fail(n + "modality_batch_stride: expected at least keys=" + str(a.keys) + ", got " + str(p->modality_batch_stride));
    }
    // The kernels index their windows by these values; one pass over B x keys bytes is cheap next to attention.
    for (int b = 0; b < a.batch; b++) {
        const uint8_t *m = p->modality + b * p->modality_batch_stride;
        for (int j = 0; j < a.keys; j++) {
            if (m[j] > 2) {
                fail(n + "modality: expected 0 (padding), 1 (text) or 2 (image), got " + str(m[j]) + " at [" + str(b)
                     + ", " + str(j) + "]");
            }
        }
    }
}

}  // namespace mmca::cpu
