// The fused attention tile kernel, compiled once per instruction set (attention_kernel.cpp is built
// three times with different -m flags); isa.cpp picks one at load time.
#ifndef MMCA_CPU_ATTENTION_KERNEL_H
#define MMCA_CPU_ATTENTION_KERNEL_H

#include <cstddef>
#include <cstdint>

#include "mmca/attention_params.h"

namespace mmca::cpu {

/**
 * One work item: queries [q0, q1) of batch element b, every query head that reads kv heads g0 .. g0 + groups
 * - 1, over the visible keys in [k0, k1). Each group's heads are stacked into one row block (row r is query
 * q0 + r / R of the (r % R)-th head of the group) so that each key/value tile is loaded once per group; key
 * tiles of 64 with an online softmax, so the N x M score matrix never exists. The groups of an item take each
 * key tile in turn (several groups per item suit a decoding step, whose few rows make it a pass over memory).
 *
 * With partial == nullptr the rows are normalised and written to p.o (SPEC steps 2-5; k0 = 0 and k1 = keys).
 * Otherwise the running state of row r of the item's gi-th group is written to
 * partial[(gi * rows + r) * (dim_head + 2) ...] (rows = (q1 - q0) * heads / kv_heads): the unnormalised
 * output (dim_head floats), then the running max m and sum l, for a later merge of key chunks. Arguments
 * are already validated.
 *
 * Returns -1, or the smallest query index (in batch element b) of a row whose logits overflowed float32
 * (an infinite or NaN score from finite inputs): its softmax state is not finite and its output is garbage.
 */
using AttentionTileFn = int64_t (*)(const mmca_attention_params &p, int b, int g0, int groups, int q0, int q1, int k0,
                                    int k1, float *partial);

int64_t attention_tile_portable(const mmca_attention_params &p, int b, int g0, int groups, int q0, int q1,
                                int k0, int k1, float *partial);
int64_t attention_tile_avx2(const mmca_attention_params &p, int b, int g0, int groups, int q0, int q1,
                            int k0, int k1, float *partial);
int64_t attention_tile_avx512(const mmca_attention_params &p, int b, int g0, int groups, int q0, int q1,
                              int k0, int k1, float *partial);

float fma_chains_portable(int64_t iterations);
float fma_chains_avx2(int64_t iterations);
float fma_chains_avx512(int64_t iterations);

/**
 * Per-thread scratch of at least `floats` floats, reused between calls and freed at thread exit.
 * Lives in a file compiled for the baseline ISA so that no library code built with wider
 * instructions can leak into the portable path.
 */
float *thread_scratch(size_t floats);

}  // namespace mmca::cpu

#endif
