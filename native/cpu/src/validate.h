// Entry checks of the C ABI: a malformed parameter block becomes an exception, never a crash.
#ifndef MMCA_CPU_VALIDATE_H
#define MMCA_CPU_VALIDATE_H

#include <string>

#include "mmca/attention_params.h"
#include "mmca/cpu.h"

namespace mmca::cpu {

/** Checks one attention block; `name` prefixes every message (e.g. "mmca_attention_params"). */
void validate_attention(const mmca_attention_params *p, const std::string &name);

/** Checks both halves of a text block and that they describe the same query rows. */
void validate_text(const mmca_text_params *p);

/**
 * Checks an interleaved block: its attention block (causal, without masks), the image rule, and every modality
 * value of the [batch, keys] modality (0, 1 or 2).
 */
void validate_interleaved(const mmca_interleaved_params *p);

}  // namespace mmca::cpu

#endif
