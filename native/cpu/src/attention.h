// Parallel drivers of the fused attention kernels over (batch, kv group, query tile) work items.
#ifndef MMCA_CPU_ATTENTION_H
#define MMCA_CPU_ATTENTION_H

#include <cstdint>

#include "mmca/attention_params.h"

namespace mmca::cpu {

/**
 * One attention problem; `p` must already be validated. Returns -1, or b * queries + i for the first
 * (smallest) row whose logits overflowed float32.
 */
int64_t run_attention(const mmca_attention_params &p);

/**
 * Queries per work item of an attention call: about 256 stacked rows (query tile x the query heads of a kv
 * group), shared by the fused kernels that stack a group's heads as rows.
 */
int query_tile(const mmca_attention_params &p);

/**
 * The fused MMCA text operation: for every work item, the self tile then the cross tile of the same
 * query rows (separate softmaxes); `p` must already be validated. Returns -1, the first overflowed row of
 * the self half (b * queries + i), or batch * queries plus the first overflowed row of the cross half.
 */
int64_t run_text_attention(const mmca_text_params &p);

}  // namespace mmca::cpu

#endif
