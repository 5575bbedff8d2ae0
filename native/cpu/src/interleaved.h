// Parallel driver of the fused interleaved attention kernel over (batch, kv group, query tile) work items.
#ifndef MMCA_CPU_INTERLEAVED_H
#define MMCA_CPU_INTERLEAVED_H

#include <cstdint>

#include "mmca/attention_params.h"

namespace mmca::cpu {

/**
 * One interleaved attention problem; `p` must already be validated. Returns -1, or b * queries + i for the
 * first (smallest) row whose logits overflowed float32.
 */
int64_t run_interleaved_attention(const mmca_interleaved_params &p);

}  // namespace mmca::cpu

#endif
