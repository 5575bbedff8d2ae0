// Which keys a query row sees (SPEC step 4), shared by the per-ISA attention kernels and the merge of key chunks
// (built for the baseline ISA). Internal linkage (an anonymous namespace) and no standard-library template, so a
// per-ISA source may include it without sharing code built with its instructions.
#ifndef MMCA_CPU_VISIBILITY_H
#define MMCA_CPU_VISIBILITY_H

#include <cstdint>

#include "mmca/attention_params.h"

namespace mmca::cpu {
namespace {

// The keys of batch element b that exist (a partly filled cache): key_lengths[b] clamped to [0, keys], or keys.
inline int64_t element_key_length(const mmca_attention_params &p, int b) {
    if (p.key_lengths == nullptr) return p.keys;
    const int64_t n = p.key_lengths[b];
    return n < 0 ? 0 : (n > p.keys ? p.keys : n);
}

// The last key query i of batch element b may see before the key mask (-1: none): below the element's key length
// and, with causal masking, at most the query's position (given, or right-aligned i + keys - queries).
inline int64_t last_visible_key(const mmca_attention_params &p, int b, int i, int64_t key_length) {
    int64_t lk = key_length - 1;
    if (p.causal) {
        const int64_t pos = p.query_positions != nullptr
                                    ? p.query_positions[b * p.query_positions_batch_stride + i]
                                    : i + (static_cast<int64_t>(p.keys) - p.queries);
        lk = pos < lk ? pos : lk;
    }
    return lk < -1 ? -1 : lk;
}

// The first key of batch element b below `end` that the key mask lets through, or `end`. A row whose last visible
// key is at or past it sees at least one key: if its running max is still -inf at the end, every score it saw
// overflowed downwards (an error), which a row that saw no key (zeros) is not.
inline int64_t first_unmasked_key(const mmca_attention_params &p, int b, int64_t end) {
    if (p.key_mask == nullptr) return end > 0 ? 0 : end;
    const uint8_t *km = p.key_mask + b * p.key_mask_batch_stride;
    int64_t j = 0;
    while (j < end && km[j] == 0) j++;
    return j;
}

}  // namespace
}  // namespace mmca::cpu

#endif
