/*
 * Runs CUDA kernel source on the CPU for kernel_emulation_test: one std::thread per CUDA thread,
 * std::barrier for __syncthreads / __syncwarp, shuffles through a per-warp exchange buffer. A lane
 * that skips a warp-collective call (divergent shuffle) makes the test hang, which ctest reports as a
 * timeout. Blocks run one after another, so one shared-memory buffer serves them all.
 */
#ifndef MMCA_CUDA_EMULATION_H
#define MMCA_CUDA_EMULATION_H

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <barrier>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

// Qualifiers become plain C++.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__
#define __launch_bounds__(...)

inline thread_local uint3 threadIdx;
inline thread_local uint3 blockIdx;

namespace emu {

struct Warp {
    std::barrier<> bar{32};
    float buf[32];
};

struct Block {
    explicit Block(int threads) : bar(threads), warps(threads / 32) {}
    std::barrier<> bar;
    std::vector<Warp> warps;
};

inline thread_local Block *block = nullptr;

inline int lane() { return threadIdx.x % 32; }
inline Warp &warp() { return block->warps[threadIdx.x / 32]; }

inline float to_f(float x) { return x; }
inline float to_f(__half x) { return __half2float(x); }
inline float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }

/* Runs body() as grid x threads CUDA threads, one block at a time; shared memory is re-poisoned (NaN bytes) per block. */
inline void launch(dim3 grid, int threads, char *shared, size_t shared_bytes, const std::function<void()> &body) {
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                std::memset(shared, 0xff, shared_bytes);
                Block b(threads);
                std::vector<std::thread> pool;
                for (int t = 0; t < threads; t++) {
                    pool.emplace_back([&, t] {
                        threadIdx = make_uint3(t, 0, 0);
                        blockIdx = make_uint3(x, y, z);
                        block = &b;
                        body();
                    });
                }
                for (auto &th : pool) th.join();
            }
        }
    }
}

}  // namespace emu

inline void __syncthreads() { emu::block->bar.arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::warp().bar.arrive_and_wait(); }

inline float __shfl_xor_sync(unsigned, float v, int mask) {
    emu::Warp &w = emu::warp();
    w.buf[emu::lane()] = v;
    w.bar.arrive_and_wait();
    float r = w.buf[emu::lane() ^ mask];
    w.bar.arrive_and_wait();
    return r;
}

inline float __expf(float x) { return std::exp(x); }
inline float __int_as_float(unsigned x) {
    float f;
    std::memcpy(&f, &x, 4);
    return f;
}

#endif
