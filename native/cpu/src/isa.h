// Run-time choice of the kernel instruction set (cpuid at load, MMCA_CPU_ISA to force a lower one).
#ifndef MMCA_CPU_ISA_H
#define MMCA_CPU_ISA_H

#include <string>

#include "attention_kernel.h"
#include "interleaved_kernel.h"
#include "few_rows_kernel.h"

namespace mmca::cpu {

enum class Isa { portable = 0, avx2 = 1, avx512 = 2 };

/** The best path this CPU can run. */
Isa best_isa();
/** The path in use. */
Isa current_isa();
const char *isa_name(Isa isa);
/** Selects a path by name; throws if the name is unknown or the CPU cannot run it. */
void select_isa(const std::string &name);
/** The tile kernel of the path in use. */
AttentionTileFn current_tile_kernel();
/** The interleaved attention tile kernel of the path in use. */
InterleavedTileFn current_interleaved_kernel();

/** The few-rows projection kernel of the path in use. */
FewRowsFn current_few_rows_kernel();

/** The FMA peak routine (peak_kernel.cpp) of the path in use and its floats per vector. */
using FmaChainsFn = float (*)(int64_t iterations);
FmaChainsFn current_fma_chains(int &vector_width);
/** Features reported by cpuid, space separated, plus a note if MMCA_CPU_ISA was ignored. */
const std::string &cpu_features();

}  // namespace mmca::cpu

#endif
