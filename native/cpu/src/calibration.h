// Machine yardsticks for benchmarks (see calibration.cpp).
#ifndef MMCA_CPU_CALIBRATION_H
#define MMCA_CPU_CALIBRATION_H

#include <cstdint>

namespace mmca::cpu {

/** Best fp32 FMA throughput of every pool thread together, over about `seconds`, in GFLOP/s. */
double fma_peak_gflops(double seconds);

/** Best read bandwidth of the pool's threads over a `bytes` buffer (larger than the caches), in GB/s. */
double read_bandwidth_gbs(int64_t bytes, int repeats);

}  // namespace mmca::cpu

#endif
