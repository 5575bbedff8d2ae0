#include "validate.h"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "dim_heads.h"
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
#define MMCA_IS(D) if (d == D) return true;
    MMCA_FOR_EACH_DIM_HEAD(MMCA_IS)
#undef MMCA_IS
    return false;
}

std::string supported_dim_heads_text() {
    std::string all;
#define MMCA_APPEND(D) all += (all.empty() ? "" : ", ") + std::to_string(D);
    MMCA_FOR_EACH_DIM_HEAD(MMCA_APPEND)
#undef MMCA_APPEND
    const size_t last = all.rfind(", ");
    return last == std::string::npos ? all : all.substr(0, last) + " and " + all.substr(last + 2);
}

void validate(const mmca_attention_params *pp, int math, const char *which) {
    if (pp == nullptr) {
        throw std::invalid_argument(std::string(which) + ": expected a parameter block, got NULL");
    }
    const mmca_attention_params &p = *pp;
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
                + " (the CUDA kernels support " + supported_dim_heads_text() + ")");
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
    if (p.reserved != 0) fail(which, "reserved: expected 0, got " + std::to_string(p.reserved));
    // key_lengths and query_positions live in device memory: their values are the kernels' to read
    // (clamped there); only the layout of query_positions is checked here.
    if (p.query_positions != nullptr && p.query_positions_batch_stride < p.queries && p.batch > 1) {
        fail(which, "query_positions_batch_stride: expected at least queries (" + std::to_string(p.queries) + "), got "
                + std::to_string(p.query_positions_batch_stride));
    }
    if (p.key_mask != nullptr && p.key_mask_batch_stride < p.keys && p.batch > 1) {
        fail(which, "key_mask_batch_stride: expected at least keys (" + std::to_string(p.keys) + "), got "
                + std::to_string(p.key_mask_batch_stride));
    }
    if (p.query_mask != nullptr && p.query_mask_batch_stride < p.queries && p.batch > 1) {
        fail(which, "query_mask_batch_stride: expected at least queries (" + std::to_string(p.queries) + "), got "
                + std::to_string(p.query_mask_batch_stride));
    }
}

void validate_text(const mmca_text_params *t, int math) {
    if (t == nullptr) throw std::invalid_argument("text: expected a parameter block pair, got NULL");
    validate(&t->self, math, "self");
    validate(&t->cross, math, "cross");
    const mmca_attention_params &a = t->self;
    const mmca_attention_params &b = t->cross;
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

void validate_interleaved(const mmca_interleaved_params *ip, int math) {
    if (ip == nullptr) throw std::invalid_argument("interleaved: expected a parameter block, got NULL");
    const mmca_attention_params &a = ip->attention;
    validate(&a, math, "interleaved.attention");
    const char *which = "interleaved";
    if (a.causal != 1) fail(which, "attention.causal: expected 1 (the text groups are causal), got " + std::to_string(a.causal));
    if (a.key_mask != nullptr || a.query_mask != nullptr) {
        fail(which, "attention.key_mask: expected NULL key and query masks (the modality marks padding), got a mask");
    }
    if (ip->image_rule != MMCA_IMAGE_RULE_SELF && ip->image_rule != MMCA_IMAGE_RULE_BLOCK) {
        fail(which, "image_rule: expected 0 (self) or 1 (block), got " + std::to_string(ip->image_rule));
    }
    if (ip->reserved != 0) fail(which, "reserved: expected 0, got " + std::to_string(ip->reserved));
    non_null(which, "modality", ip->modality);
    if (a.batch > 1 && ip->modality_batch_stride < a.keys) {
        fail(which, "modality_batch_stride: expected at least keys (" + std::to_string(a.keys) + "), got "
                + std::to_string(ip->modality_batch_stride));
    }
}

}  // namespace mmca_cuda

/* The host-only entry points of api.h. */

int mmca_cuda_params_size() { return (int)sizeof(mmca_attention_params); }

int mmca_cuda_format_params(const mmca_attention_params *params, char *buf, int size) {
    if (params == nullptr || buf == nullptr || size <= 0) {
        throw std::invalid_argument("format_params: expected a parameter block and a buffer, got NULL or size "
                                    + std::to_string(size));
    }
    return mmca_attention_params_format(params, buf, (size_t)size);
}

int mmca_cuda_dim_heads(int32_t *out, int capacity) {
    int n = 0;
#define MMCA_PUT(D) \
    if (out != nullptr && n < capacity) out[n] = D; \
    n++;
    MMCA_FOR_EACH_DIM_HEAD(MMCA_PUT)
#undef MMCA_PUT
    return n;
}

void mmca_cuda_validate(const mmca_attention_params *params, int math) { mmca_cuda::validate(params, math, "attention"); }

void mmca_cuda_validate_text(const mmca_text_params *params, int math) { mmca_cuda::validate_text(params, math); }

int mmca_cuda_interleaved_params_size() { return (int)sizeof(mmca_interleaved_params); }

int mmca_cuda_format_interleaved_params(const mmca_interleaved_params *params, char *buf, int size) {
    if (params == nullptr || buf == nullptr || size <= 0) {
        throw std::invalid_argument("format_interleaved_params: expected a parameter block and a buffer, got NULL or"
                                    " size " + std::to_string(size));
    }
    return mmca_interleaved_params_format(params, buf, (size_t)size);
}

void mmca_cuda_validate_interleaved(const mmca_interleaved_params *params, int math) {
    mmca_cuda::validate_interleaved(params, math);
}
