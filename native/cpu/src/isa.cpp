#include "isa.h"

#include <atomic>
#include <cstdlib>

#include "errors.h"

namespace mmca::cpu {
namespace {

bool has_avx512() {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
           && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
           && __builtin_cpu_supports("fma");
}

bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

bool parse(const std::string &name, Isa &out) {
    if (name == "portable") out = Isa::portable;
    else if (name == "avx2") out = Isa::avx2;
    else if (name == "avx512") out = Isa::avx512;
    else return false;
    return true;
}

std::string env_note;

Isa initial_isa() {
    __builtin_cpu_init();
    Isa best = best_isa();
    const char *env = std::getenv("MMCA_CPU_ISA");
    if (env == nullptr || *env == '\0') return best;
    Isa wanted;
    if (!parse(env, wanted)) {
        env_note = std::string("MMCA_CPU_ISA=") + env + " ignored (expected portable, avx2 or avx512)";
        return best;
    }
    if (static_cast<int>(wanted) > static_cast<int>(best)) {
        env_note = std::string("MMCA_CPU_ISA=") + env + " ignored (this CPU runs at most " + isa_name(best) + ")";
        return best;
    }
    return wanted;
}

std::atomic<int> &current() {
    static std::atomic<int> isa{static_cast<int>(initial_isa())};
    return isa;
}

}  // namespace

Isa best_isa() {
    __builtin_cpu_init();
    if (has_avx512()) return Isa::avx512;
    if (has_avx2()) return Isa::avx2;
    return Isa::portable;
}

Isa current_isa() { return static_cast<Isa>(current().load()); }

const char *isa_name(Isa isa) {
    switch (isa) {
        case Isa::avx512: return "avx512";
        case Isa::avx2: return "avx2";
        default: return "portable";
    }
}

void select_isa(const std::string &name) {
    Isa wanted;
    if (!parse(name, wanted)) fail("isa: expected portable, avx2 or avx512, got '" + name + "'");
    Isa best = best_isa();
    if (static_cast<int>(wanted) > static_cast<int>(best)) {
        fail("isa: expected a path this CPU runs (at most " + std::string(isa_name(best)) + "), got '" + name + "'");
    }
    current().store(static_cast<int>(wanted));
}

AttentionTileFn current_tile_kernel() {
    switch (current_isa()) {
        case Isa::avx512: return attention_tile_avx512;
        case Isa::avx2: return attention_tile_avx2;
        default: return attention_tile_portable;
    }
}

InterleavedTileFn current_interleaved_kernel() {
    switch (current_isa()) {
        case Isa::avx512: return interleaved_tile_avx512;
        case Isa::avx2: return interleaved_tile_avx2;
        default: return interleaved_tile_portable;
    }
}

FewRowsFn current_few_rows_kernel() {
    switch (current_isa()) {
        case Isa::avx512: return few_rows_linear_avx512;
        case Isa::avx2: return few_rows_linear_avx2;
        default: return few_rows_linear_portable;
    }
}

FmaChainsFn current_fma_chains(int &vector_width) {
    switch (current_isa()) {
        case Isa::avx512: vector_width = 16; return fma_chains_avx512;
        case Isa::avx2: vector_width = 8; return fma_chains_avx2;
        default: vector_width = 4; return fma_chains_portable;
    }
}

const std::string &cpu_features() {
    static const std::string features = [] {
        current();  // make sure env_note is set
        __builtin_cpu_init();
        std::string s;
        // __builtin_cpu_supports takes a string literal only, hence the macro.
#define MMCA_FEATURE(name) \
    if (__builtin_cpu_supports(name)) s += (s.empty() ? "" : " ") + std::string(name);
        MMCA_FEATURE("avx512f")
        MMCA_FEATURE("avx512bw")
        MMCA_FEATURE("avx512dq")
        MMCA_FEATURE("avx512vl")
        MMCA_FEATURE("avx2")
        MMCA_FEATURE("fma")
        MMCA_FEATURE("avx")
        MMCA_FEATURE("sse4.2")
        MMCA_FEATURE("sse2")
#undef MMCA_FEATURE
        if (!env_note.empty()) s += "; " + env_note;
        return s;
    }();
    return features;
}

}  // namespace mmca::cpu
