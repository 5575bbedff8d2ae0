/* Host-side validation of attention parameter blocks; no CUDA headers, so it is unit-testable anywhere. */
#ifndef MMCA_CUDA_VALIDATE_H
#define MMCA_CUDA_VALIDATE_H

#include <stdint.h>

#include <string>

#include "mmca/attention_params.h"

namespace mmca_cuda {

/* Head widths with compiled kernels (dim_heads.h). */
bool supported_dim_head(int d);

/* The supported head widths for messages, e.g. "32, 64, 80, 96 and 128". */
std::string supported_dim_heads_text();

/* Checks one problem; `which` prefixes messages (e.g. "self"). Throws std::invalid_argument. */
void validate(const mmca_attention_params *p, int math, const char *which);

/* Checks a self + cross pair: each alone, then that they share batch, heads, queries, dim_head and dtype. */
void validate_text(const mmca_text_params *t, int math);

/* Checks an interleaved block (see mmca_cuda_validate_interleaved). Throws std::invalid_argument. */
void validate_interleaved(const mmca_interleaved_params *ip, int math);

}  // namespace mmca_cuda

#endif
