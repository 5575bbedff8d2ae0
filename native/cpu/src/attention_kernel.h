// The fused attention tile kernel, compiled once per instruction set (attention_kernel.cpp is built
// three times with different -m flags); isa.cpp picks one at load time.
#ifndef MMCA_CPU_ATTENTION_KERNEL_H
#define MMCA_CPU_ATTENTION_KERNEL_H

#include <cstddef>

#include "mmca/attention_params.h"

namespace mmca::cpu {

/**
 * Computes the output rows of queries [q0, q1) of batch element b for every query head that reads
 * kv head g, as SPEC steps 2-5 define them: the group's heads are stacked into one row block so that
 * each key/value tile is loaded once per group; key tiles of 64 with an online softmax, so the
 * N x M score matrix never exists. Arguments are already validated.
 */
using AttentionTileFn = void (*)(const mmca_attention_params &p, int b, int g, int q0, int q1);

void attention_tile_portable(const mmca_attention_params &p, int b, int g, int q0, int q1);
void attention_tile_avx2(const mmca_attention_params &p, int b, int g, int q0, int q1);
void attention_tile_avx512(const mmca_attention_params &p, int b, int g, int q0, int q1);

/**
 * Per-thread scratch of at least `floats` floats, reused between calls and freed at thread exit.
 * Lives in a file compiled for the baseline ISA so that no library code built with wider
 * instructions can leak into the portable path.
 */
float *thread_scratch(size_t floats);

}  // namespace mmca::cpu

#endif
