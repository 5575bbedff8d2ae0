// The machine's fp32 FMA peak, the yardstick of every GFLOP/s figure: independent chains of vector FMAs,
// enough of them to cover the FMA latency on every port, on one thread. Compiled once per instruction set
// like attention_kernel.cpp (MMCA_ISA_SUFFIX, MMCA_VEC_WIDTH).
#include <cstdint>

#define MMCA_CAT2(a, b) a##b
#define MMCA_CAT(a, b) MMCA_CAT2(a, b)
#define MMCA_PEAK_ENTRY MMCA_CAT(fma_chains_, MMCA_ISA_SUFFIX)

namespace mmca::cpu {
namespace {

constexpr int W = MMCA_VEC_WIDTH;
// 12 chains: latency 4 cycles x 2 FMA ports plus margin (Zen, Skylake, Ice Lake all need at least 8).
constexpr int CHAINS = 12;
typedef float vf __attribute__((vector_size(W * sizeof(float))));

}  // namespace

// Runs `iterations` rounds of CHAINS dependent FMAs of W lanes each and returns a value derived from every
// chain (so none is optimised away); 2 * CHAINS * W * iterations flops.
float MMCA_PEAK_ENTRY(int64_t iterations) {
    vf acc[CHAINS];
    const vf a = vf{} + 0.999999f;
    const vf b = vf{} + 1e-7f;
    for (int c = 0; c < CHAINS; c++) acc[c] = vf{} + static_cast<float>(c);
    for (int64_t it = 0; it < iterations; it++) {
#pragma GCC unroll 12
        for (int c = 0; c < CHAINS; c++) acc[c] = acc[c] * a + b;
    }
    float sum = 0;
    for (int c = 0; c < CHAINS; c++)
        for (int l = 0; l < W; l++) sum += acc[c][l];
    return sum;
}

}  // namespace mmca::cpu
