// The fused interleaved attention tile kernel, compiled once per instruction set (interleaved_kernel.cpp is
// built three times with different -m flags, as attention_kernel.cpp); isa.cpp picks one at load time.
#ifndef MMCA_CPU_INTERLEAVED_KERNEL_H
#define MMCA_CPU_INTERLEAVED_KERNEL_H

#include <cstddef>
#include <cstdint>

#include "mmca/attention_params.h"

namespace mmca::cpu {

/**
 * One work item of mmca_interleaved_params: queries [q0, q1) of batch element b, every query head that reads kv
 * head g, stacked into one row block (row r is query q0 + r / R of the (r % R)-th head of the group) so that
 * each key/value tile is loaded once per group; over key tiles of 64, each row keeps two online softmaxes (its
 * text group and its image group) and writes o = O_T / l_T + O_I / l_I to p.attention.o. Arguments are already
 * validated.
 *
 * Returns -1, or the smallest query index (in batch element b) of a row whose logits overflowed float32.
 */
using InterleavedTileFn = int64_t (*)(const mmca_interleaved_params &p, int b, int g, int q0, int q1);

int64_t interleaved_tile_portable(const mmca_interleaved_params &p, int b, int g, int q0, int q1);
int64_t interleaved_tile_avx2(const mmca_interleaved_params &p, int b, int g, int q0, int q1);
int64_t interleaved_tile_avx512(const mmca_interleaved_params &p, int b, int g, int q0, int q1);

/** Per-thread scratch of at least `floats` floats (attention_kernel.h; defined in attention.cpp). */
float *thread_scratch(size_t floats);

}  // namespace mmca::cpu

#endif
