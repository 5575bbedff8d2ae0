// The physical yardsticks benchmarks report next to every figure: the fp32 FMA peak and the read
// bandwidth of memory, both measured on the pool's threads in the same run.
#include "calibration.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "isa.h"
#include "thread_pool.h"

namespace mmca::cpu {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

double fma_peak_gflops(double seconds) {
    int width = 0;
    const FmaChainsFn chains = current_fma_chains(width);
    const int threads = pool_threads();
    // calibrate a round of iterations to about 50 ms on one thread
    int64_t iterations = 1 << 16;
    for (;;) {
        auto t0 = std::chrono::steady_clock::now();
        chains(iterations);
        if (seconds_since(t0) > 0.05 || iterations > (int64_t{1} << 34)) break;
        iterations *= 2;
    }
    std::atomic<float> sink{0};
    double best = 0;
    auto start = std::chrono::steady_clock::now();
    do {
        auto t0 = std::chrono::steady_clock::now();
        parallel_for(threads, [&](int64_t) { sink.store(chains(iterations), std::memory_order_relaxed); });
        const double s = seconds_since(t0);
        best = std::max(best, 2.0 * 12 * width * static_cast<double>(iterations) * threads / s / 1e9);
    } while (seconds_since(start) < seconds);
    return best;
}

double read_bandwidth_gbs(int64_t bytes, int repeats) {
    const int threads = pool_threads();
    const int64_t count = bytes / static_cast<int64_t>(sizeof(float));
    std::unique_ptr<float[]> data(new float[count]);
    parallel_for(threads, [&](int64_t t) {  // first touch by the threads that read it
        const int64_t a = count * t / threads, b = count * (t + 1) / threads;
        for (int64_t i = a; i < b; i++) data[i] = static_cast<float>(i & 1023);
    });
    std::vector<float> sums(threads);
    double best = 0;
    for (int r = 0; r < repeats; r++) {
        auto t0 = std::chrono::steady_clock::now();
        parallel_for(threads, [&](int64_t t) {
            const int64_t a = count * t / threads, b = count * (t + 1) / threads;
            // eight independent sums: the loop runs at the memory's pace, not the adder's latency
            float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
            int64_t i = a;
            for (; i + 8 <= b; i += 8)
                for (int l = 0; l < 8; l++) s[l] += data[i + l];
            for (; i < b; i++) s[0] += data[i];
            sums[t] = s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
        });
        best = std::max(best, static_cast<double>(count * sizeof(float)) / seconds_since(t0) / 1e9);
    }
    volatile float keep = sums[0];
    (void)keep;
    return best;
}

}  // namespace mmca::cpu
