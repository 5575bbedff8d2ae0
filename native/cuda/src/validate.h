/* Host-side unpacking and validation of attention descriptors; no CUDA headers, so it is unit-testable anywhere. */
#ifndef MMCA_CUDA_VALIDATE_H
#define MMCA_CUDA_VALIDATE_H

#include <stdint.h>

#include "mmca/attention_params.h"

namespace mmca_cuda {

/* Head widths with compiled kernels. */
bool supported_dim_head(int d);

/* Unpacks a descriptor (see api.h) into params; throws std::invalid_argument naming the bad slot. */
mmca_attention_params unpack(const int64_t *desc, int len, const char *which);

/* Checks one problem; `which` prefixes messages (e.g. "self"). Throws std::invalid_argument. */
void validate(const mmca_attention_params &p, int math, const char *which);

/* Checks a self + cross pair: each alone, then that they share batch, heads, queries, dim_head and dtype. */
void validate_text(const mmca_text_params &t, int math);

}  // namespace mmca_cuda

#endif
