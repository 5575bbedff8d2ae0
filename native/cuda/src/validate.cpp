#include "validate.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "mmca_cuda/api.h"

namespace mmca_cuda {

namespace {

[[noreturn]] void fail(const char *which, const std::string &what) {
    throw std::invalid_argument(std::string(which) + "." + what);
}

void positive(const char *which, const char *name, int64_t v) {
    if (v <= 0) {
        fail(which, std::string(name) + ": expected a positive integer, got " + std::to_string(v));
    }
}

int32_t to_int32(const char *which, const char *name, int64_t v) {
    if (v < INT32_MIN || v > INT32_MAX) {
        fail(which, std::string(name) + ": expected a 32-bit integer, got " + std::to_string(v));
    }
    return static_cast<int32_t>(v);
}

void non_null(const char *which, const char *name, const void *ptr) {
    if (ptr == nullptr) {
        fail(which, std::string(name) + ": expected a device pointer, got NULL");
    }
}

/* A tensor [batch, rows, heads, dim_head] must be addressable: strides positive, the head vectors contiguous. */
void strides(const char *which, const char *name, int64_t batch_stride, int64_t row_stride, int64_t head_stride) {
    std::string n(name);
    if (batch_stride < 0) fail(which, n + "_batch_stride: expected >= 0, got " + std::to_string(batch_stride));
    if (row_stride <= 0) fail(which, n + "_row_stride: expected > 0, got " + std::to_string(row_stride));
    if (head_stride <= 0) fail(which, n + "_head_stride: expected > 0, got " + std::to_string(head_stride));
}

}  // namespace

bool supported_dim_head(int d) {
    return d == 32 || d == 64 || d == 80 || d == 96 || d == 128;
}

mmca_attention_params unpack(const int64_t *desc, int len, const char *which) {
    if (desc == nullptr) {
        fail(which, "desc: expected a descriptor, got NULL");
    }
    if (len != MMCA_DESC_LEN) {
        fail(which, "desc: expected " + std::to_string(MMCA_DESC_LEN) + " slots, got " + std::to_string(len));
    }
    mmca_attention_params p;
    std::memset(&p, 0, sizeof p);
    p.q = reinterpret_cast<const void *>(desc[MMCA_DESC_Q]);
    p.k = reinterpret_cast<const void *>(desc[MMCA_DESC_K]);
    p.v = reinterpret_cast<const void *>(desc[MMCA_DESC_V]);
    p.o = reinterpret_cast<void *>(desc[MMCA_DESC_O]);
    p.q_batch_stride = desc[MMCA_DESC_Q_BATCH_STRIDE];
    p.q_row_stride = desc[MMCA_DESC_Q_ROW_STRIDE];
    p.q_head_stride = desc[MMCA_DESC_Q_HEAD_STRIDE];
    p.k_batch_stride = desc[MMCA_DESC_K_BATCH_STRIDE];
    p.k_row_stride = desc[MMCA_DESC_K_ROW_STRIDE];
    p.k_head_stride = desc[MMCA_DESC_K_HEAD_STRIDE];
    p.v_batch_stride = desc[MMCA_DESC_V_BATCH_STRIDE];
    p.v_row_stride = desc[MMCA_DESC_V_ROW_STRIDE];
    p.v_head_stride = desc[MMCA_DESC_V_HEAD_STRIDE];
    p.o_batch_stride = desc[MMCA_DESC_O_BATCH_STRIDE];
    p.o_row_stride = desc[MMCA_DESC_O_ROW_STRIDE];
    p.o_head_stride = desc[MMCA_DESC_O_HEAD_STRIDE];
    p.key_mask = reinterpret_cast<const uint8_t *>(desc[MMCA_DESC_KEY_MASK]);
    p.key_mask_batch_stride = desc[MMCA_DESC_KEY_MASK_BATCH_STRIDE];
    p.query_mask = reinterpret_cast<const uint8_t *>(desc[MMCA_DESC_QUERY_MASK]);
    p.query_mask_batch_stride = desc[MMCA_DESC_QUERY_MASK_BATCH_STRIDE];
    p.batch = to_int32(which, "batch", desc[MMCA_DESC_BATCH]);
    p.heads = to_int32(which, "heads", desc[MMCA_DESC_HEADS]);
    p.kv_heads = to_int32(which, "kv_heads", desc[MMCA_DESC_KV_HEADS]);
    p.queries = to_int32(which, "queries", desc[MMCA_DESC_QUERIES]);
    p.keys = to_int32(which, "keys", desc[MMCA_DESC_KEYS]);
    p.dim_head = to_int32(which, "dim_head", desc[MMCA_DESC_DIM_HEAD]);
    uint32_t bits = static_cast<uint32_t>(desc[MMCA_DESC_SCALE_BITS]);
    std::memcpy(&p.scale, &bits, sizeof bits);
    p.causal = to_int32(which, "causal", desc[MMCA_DESC_CAUSAL]);
    p.qk_norm = to_int32(which, "qk_norm", desc[MMCA_DESC_QK_NORM]);
    p.head_mapping = to_int32(which, "head_mapping", desc[MMCA_DESC_HEAD_MAPPING]);
    p.dtype = to_int32(which, "dtype", desc[MMCA_DESC_DTYPE]);
    return p;
}

void validate(const mmca_attention_params &p, int math, const char *which) {
    positive(which, "batch", p.batch);
    positive(which, "heads", p.heads);
    positive(which, "kv_heads", p.kv_heads);
    positive(which, "queries", p.queries);
    positive(which, "keys", p.keys);
    positive(which, "dim_head", p.dim_head);
    if (p.heads % p.kv_heads != 0) {
        fail(which, "kv_heads: expected a divisor of heads (" + std::to_string(p.heads) + "), got "
                + std::to_string(p.kv_heads));
    }
    if (!supported_dim_head(p.dim_head)) {
        fail(which, "dim_head: unsupported head dim " + std::to_string(p.dim_head)
                + " (the CUDA kernels support 32, 64, 80, 96 and 128)");
    }
    if (!(std::isfinite(p.scale) && p.scale > 0.0f)) {
        fail(which, "scale: expected a finite positive number, got " + std::to_string(p.scale));
    }
    if (p.head_mapping != MMCA_HEAD_MAPPING_MODULO && p.head_mapping != MMCA_HEAD_MAPPING_GROUPED) {
        fail(which, "head_mapping: expected 0 (modulo) or 1 (grouped), got " + std::to_string(p.head_mapping));
    }
    if (p.dtype != MMCA_DTYPE_F32 && p.dtype != MMCA_DTYPE_F16 && p.dtype != MMCA_DTYPE_BF16) {
        fail(which, "dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got " + std::to_string(p.dtype));
    }
    if (math != MMCA_MATH_EXACT && math != MMCA_MATH_TENSOR_CORE) {
        fail(which, "math: expected 0 (exact fp32) or 1 (tensor cores), got " + std::to_string(math));
    }
    if (math == MMCA_MATH_EXACT && p.dtype != MMCA_DTYPE_F32) {
        fail(which, "math: exact fp32 math needs dtype f32, got dtype " + std::to_string(p.dtype)
                + " (fp16/bf16 data run on tensor cores: pass math 1)");
    }
    non_null(which, "q", p.q);
    non_null(which, "k", p.k);
    non_null(which, "v", p.v);
    non_null(which, "o", p.o);
    strides(which, "q", p.q_batch_stride, p.q_row_stride, p.q_head_stride);
    strides(which, "k", p.k_batch_stride, p.k_row_stride, p.k_head_stride);
    strides(which, "v", p.v_batch_stride, p.v_row_stride, p.v_head_stride);
    strides(which, "o", p.o_batch_stride, p.o_row_stride, p.o_head_stride);
    if (p.key_mask != nullptr && p.key_mask_batch_stride < p.keys && p.batch > 1) {
        fail(which, "key_mask_batch_stride: expected at least keys (" + std::to_string(p.keys) + "), got "
                + std::to_string(p.key_mask_batch_stride));
    }
    if (p.query_mask != nullptr && p.query_mask_batch_stride < p.queries && p.batch > 1) {
        fail(which, "query_mask_batch_stride: expected at least queries (" + std::to_string(p.queries) + "), got "
                + std::to_string(p.query_mask_batch_stride));
    }
}

void validate_text(const mmca_text_params &t, int math) {
    validate(t.self, math, "self");
    validate(t.cross, math, "cross");
    const mmca_attention_params &a = t.self;
    const mmca_attention_params &b = t.cross;
    auto same = [](const char *name, int64_t x, int64_t y) {
        if (x != y) {
            throw std::invalid_argument(std::string("cross.") + name + ": expected the same value as self ("
                    + std::to_string(x) + ") for the fused text operation, got " + std::to_string(y));
        }
    };
    same("batch", a.batch, b.batch);
    same("heads", a.heads, b.heads);
    same("queries", a.queries, b.queries);
    same("dim_head", a.dim_head, b.dim_head);
    same("dtype", a.dtype, b.dtype);
}

}  // namespace mmca_cuda
