/*
 * Runs CUDA kernel source on the CPU for kernel_emulation_test. One CTA at a time; each CUDA thread is
 * a fiber (its own stack, switched cooperatively on one OS thread), so a CTA of 128 threads costs no
 * OS threads and a switch costs a few nanoseconds.
 *
 * Fibers switch only where CUDA threads synchronise: __syncthreads, and the warp-collective operations
 * (__shfl*_sync, __ballot_sync, __syncwarp, ldmatrix, mma.sync in mma_ops.cuh), where every lane
 * deposits its operands and the last lane to arrive computes all 32 lanes' results. Which ready fiber
 * runs next follows one of two policies, drawn per CTA from a seeded generator: any ready fiber at
 * random (warps interleave finely), or the warps in a random order of strict priority (the first warp
 * runs ahead until it waits at a barrier, then the next). Under the second, a read of shared memory
 * that no barrier orders after another warp's write sees the old contents: the previous tile's, or
 * the poison (0xff bytes, NaN) the CTA's shared memory starts with.
 *
 * What the emulation refuses (the case fails with a message, the test goes on): a barrier or warp
 * collective that not every thread reaches (deadlock), lanes of one warp in different collectives,
 * ldmatrix or cp.async outside shared memory or misaligned, cp.async from a misaligned global address.
 */
#ifndef MMCA_CUDA_EMULATION_H
#define MMCA_CUDA_EMULATION_H

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#if !defined(__x86_64__)
#include <ucontext.h>
#endif

// Qualifiers become plain C++.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __launch_bounds__
#undef __grid_constant__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__
#define __launch_bounds__(...)
#define __grid_constant__

// The running fiber's indices (the scheduler sets them on every switch).
inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;

namespace emu {

/* A failure the emulation detected in the kernel's use of CUDA (reported as a failed case). */
struct Fault : std::runtime_error {
    using std::runtime_error::runtime_error;
};

#if defined(__x86_64__)
// Saves the callee-saved registers of the System V ABI on the current stack, stores the stack
// pointer in *from and continues on `to` (a stack saved by an earlier switch or prepared below).
extern "C" void mmca_emu_switch(void **from, void *to);
asm(R"(
    .text
    .globl mmca_emu_switch
    .type mmca_emu_switch, @function
mmca_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size mmca_emu_switch, .-mmca_emu_switch
)");
#endif

struct CopyJob {
    void *dst;
    const void *src;
    bool fill;
};

struct Fiber {
    char *stack = nullptr;
    void *sp = nullptr;
#if !defined(__x86_64__)
    ucontext_t context;
#endif
    unsigned tid = 0;
    bool done = false;
    std::vector<CopyJob> open;                  // cp.async since the last commit
    std::deque<std::vector<CopyJob>> groups;    // committed groups, oldest first
};

struct Warp {
    int arrived = 0;
    int kind = 0;
    uint32_t in[32][12];
    uint32_t out[32][4];
    std::vector<int> waiting;
};

constexpr size_t kStackBytes = 256 * 1024;

struct Scheduler {
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    std::vector<std::vector<int>> ready;  // ready fibers per warp
    std::vector<int> warp_order;          // priority policy: warps, highest priority first
    bool priority = false;
    std::vector<int> barrier_waiting;
    int barrier_arrived = 0;
    int current = -1;
    void *main_sp = nullptr;
#if !defined(__x86_64__)
    ucontext_t main_context;
#endif
    const std::function<void()> *body = nullptr;
    std::exception_ptr error;
    std::mt19937 rng{1};
    char *shared = nullptr;
    size_t shared_bytes = 0;

    ~Scheduler() {
        for (Fiber &f : fibers) std::free(f.stack);
    }
};

inline Scheduler &sched() {
    static Scheduler s;
    return s;
}

inline Fiber &me() { return sched().fibers[sched().current]; }
inline int lane() { return (int)(threadIdx.x % 32); }

inline void fiber_main() {
    Scheduler &s = sched();
    try {
        (*s.body)();
    } catch (...) {
        if (!s.error) s.error = std::current_exception();
    }
    s.fibers[s.current].done = true;
#if defined(__x86_64__)
    mmca_emu_switch(&s.fibers[s.current].sp, s.main_sp);
#else
    swapcontext(&s.fibers[s.current].context, &s.main_context);
#endif
    std::abort();  // a finished fiber is never resumed
}

#if !defined(__x86_64__)
inline void fiber_trampoline() { fiber_main(); }
#endif

/* Back to the scheduler; returns when this fiber is picked again. */
inline void yield() {
    Scheduler &s = sched();
#if defined(__x86_64__)
    mmca_emu_switch(&s.fibers[s.current].sp, s.main_sp);
#else
    swapcontext(&s.fibers[s.current].context, &s.main_context);
#endif
}

inline void wake(int f) { sched().ready[f / 32].push_back(f); }

/* The next fiber to run under the CTA's policy, or -1 when none is ready. */
inline int next_fiber() {
    Scheduler &s = sched();
    const int warps = (int)s.ready.size();
    if (s.priority) {
        for (int w : s.warp_order) {
            if (!s.ready[w].empty()) {
                const int f = s.ready[w].back();
                s.ready[w].pop_back();
                return f;
            }
        }
        return -1;
    }
    int nonempty = 0;
    for (int w = 0; w < warps; w++) nonempty += !s.ready[w].empty();
    if (nonempty == 0) return -1;
    int pick = std::uniform_int_distribution<int>(0, nonempty - 1)(s.rng);
    for (int w = 0; w < warps; w++) {
        if (s.ready[w].empty() || pick-- > 0) continue;
        std::vector<int> &r = s.ready[w];
        const size_t k = std::uniform_int_distribution<size_t>(0, r.size() - 1)(s.rng);
        const int f = r[k];
        r[k] = r.back();
        r.pop_back();
        return f;
    }
    return -1;
}

inline void prepare(Fiber &f) {
    if (f.stack == nullptr) {
        f.stack = static_cast<char *>(std::malloc(kStackBytes));
        if (f.stack == nullptr) throw std::runtime_error("emulation: no memory for a fiber stack");
    }
    f.done = false;
    f.open.clear();
    f.groups.clear();
#if defined(__x86_64__)
    // The first switch to the fiber pops six registers and "returns" into fiber_main, which then sees
    // the stack of a function entered by a call (rsp = 8 mod 16); the slot above is a null return address.
    uintptr_t top = (reinterpret_cast<uintptr_t>(f.stack) + kStackBytes) & ~uintptr_t(15);
    void **sp = reinterpret_cast<void **>(top);
    *--sp = nullptr;
    *--sp = reinterpret_cast<void *>(&fiber_main);
    for (int i = 0; i < 6; i++) *--sp = nullptr;
    f.sp = sp;
#else
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = f.stack;
    f.context.uc_stack.ss_size = kStackBytes;
    f.context.uc_link = nullptr;
    makecontext(&f.context, fiber_trampoline, 0);
#endif
}

/*
 * Runs body() as one CTA of `threads` threads (blockIdx is set by the caller). Throws Fault when the
 * kernel faults or deadlocks; its shared memory is `shared` (poisoned with 0xff bytes first).
 */
inline void run_block(unsigned threads, char *shared, size_t shared_bytes, const std::function<void()> &body) {
    Scheduler &s = sched();
    if (threads % 32 != 0) throw Fault("emulation: block size must be whole warps");
    if (s.fibers.size() < threads) s.fibers.resize(threads);
    s.warps.assign(threads / 32, Warp());
    s.ready.assign(threads / 32, std::vector<int>());
    s.warp_order.resize(threads / 32);
    for (unsigned w = 0; w < threads / 32; w++) s.warp_order[w] = (int)w;
    std::shuffle(s.warp_order.begin(), s.warp_order.end(), s.rng);
    s.priority = std::uniform_int_distribution<int>(0, 1)(s.rng) == 1;
    s.barrier_waiting.clear();
    s.barrier_arrived = 0;
    s.error = nullptr;
    s.body = &body;
    s.shared = shared;
    s.shared_bytes = shared_bytes;
    std::memset(shared, 0xff, shared_bytes);
    blockDim = dim3(threads, 1, 1);
    for (unsigned t = 0; t < threads; t++) {
        s.fibers[t].tid = t;
        prepare(s.fibers[t]);
        s.ready[t / 32].push_back((int)t);
    }
    unsigned finished = 0;
    for (int f = next_fiber(); f >= 0 && !s.error; f = next_fiber()) {
        s.current = f;
        threadIdx = make_uint3(s.fibers[f].tid, 0, 0);
#if defined(__x86_64__)
        mmca_emu_switch(&s.main_sp, s.fibers[f].sp);
#else
        swapcontext(&s.main_context, &s.fibers[f].context);
#endif
        if (s.fibers[f].done) finished++;
    }
    s.current = -1;
    if (s.error) std::rethrow_exception(s.error);
    if (finished != threads) {
        throw Fault("emulation: deadlock, " + std::to_string(threads - finished)
                    + " threads wait at a barrier or warp collective that others never reach");
    }
}

/* Runs a whole grid, CTA after CTA; `seed` drives the interleaving of fibers. */
inline void launch(dim3 grid, unsigned threads, char *shared, size_t shared_bytes, const std::function<void()> &body,
                   unsigned seed = 1) {
    sched().rng.seed(seed);
    gridDim = grid;
    for (unsigned z = 0; z < grid.z; z++) {
        for (unsigned y = 0; y < grid.y; y++) {
            for (unsigned x = 0; x < grid.x; x++) {
                blockIdx = make_uint3(x, y, z);
                run_block(threads, shared, shared_bytes, body);
            }
        }
    }
}

/*
 * One warp-collective operation: this lane's `nin` input words go to the warp's exchange, and the
 * last lane to arrive runs compute(in, out) for all 32 lanes; then every lane takes its `nout` words.
 */
template <class Compute>
inline void collective(int kind, const char *name, const uint32_t *in, int nin, uint32_t *out, int nout,
                       Compute &&compute) {
    Scheduler &s = sched();
    Warp &w = s.warps[threadIdx.x / 32];
    const int l = lane();
    if (w.arrived == 0) {
        w.kind = kind;
    } else if (w.kind != kind) {
        throw Fault(std::string("emulation: lanes of warp ") + std::to_string(threadIdx.x / 32)
                    + " are in different warp-collective operations (" + name + " and another)");
    }
    if (nin > 0) std::memcpy(w.in[l], in, sizeof(uint32_t) * nin);
    if (++w.arrived < 32) {
        w.waiting.push_back(s.current);
        yield();
    } else {
        compute(w.in, w.out);
        w.arrived = 0;
        for (int f : w.waiting) wake(f);
        w.waiting.clear();
    }
    if (nout > 0) std::memcpy(out, w.out[l], sizeof(uint32_t) * nout);
}

inline void check_full_mask(unsigned mask, const char *what) {
    if (mask != 0xffffffffu) throw Fault(std::string("emulation: ") + what + " with a partial lane mask");
}

inline bool in_shared(const void *p, size_t bytes) {
    const char *c = static_cast<const char *>(p);
    return c >= sched().shared && c + bytes <= sched().shared + sched().shared_bytes;
}

inline float to_f(float x) { return x; }
inline float to_f(__half x) { return __half2float(x); }
inline float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }

inline uint32_t bits(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    return u;
}
inline float from_bits(uint32_t u) {
    float x;
    std::memcpy(&x, &u, 4);
    return x;
}

}  // namespace emu

inline void __syncthreads() {
    emu::Scheduler &s = emu::sched();
    if (++s.barrier_arrived < (int)blockDim.x) {
        s.barrier_waiting.push_back(s.current);
        emu::yield();
    } else {
        s.barrier_arrived = 0;
        for (int f : s.barrier_waiting) emu::wake(f);
        s.barrier_waiting.clear();
    }
}

inline void __syncwarp(unsigned mask = 0xffffffffu) {
    emu::check_full_mask(mask, "__syncwarp");
    emu::collective(1, "__syncwarp", nullptr, 0, nullptr, 0, [](uint32_t (*)[12], uint32_t (*)[4]) {});
}

inline uint32_t emu_shfl(uint32_t v, int arg, bool xor_mode) {
    uint32_t in[2] = {v, (uint32_t)arg}, out;
    emu::collective(xor_mode ? 2 : 3, xor_mode ? "__shfl_xor_sync" : "__shfl_sync", in, 2, &out, 1,
                    [xor_mode](uint32_t (*i)[12], uint32_t (*o)[4]) {
                        for (int l = 0; l < 32; l++) {
                            const int src = (xor_mode ? (l ^ (int)i[l][1]) : (int)i[l][1]) & 31;
                            o[l][0] = i[src][0];
                        }
                    });
    return out;
}

inline float __shfl_xor_sync(unsigned mask, float v, int lane_mask, int = 32) {
    emu::check_full_mask(mask, "__shfl_xor_sync");
    return emu::from_bits(emu_shfl(emu::bits(v), lane_mask, true));
}
inline int __shfl_xor_sync(unsigned mask, int v, int lane_mask, int = 32) {
    emu::check_full_mask(mask, "__shfl_xor_sync");
    return (int)emu_shfl((uint32_t)v, lane_mask, true);
}
inline float __shfl_sync(unsigned mask, float v, int src, int = 32) {
    emu::check_full_mask(mask, "__shfl_sync");
    return emu::from_bits(emu_shfl(emu::bits(v), src, false));
}
inline int __shfl_sync(unsigned mask, int v, int src, int = 32) {
    emu::check_full_mask(mask, "__shfl_sync");
    return (int)emu_shfl((uint32_t)v, src, false);
}

inline unsigned __ballot_sync(unsigned mask, int predicate) {
    emu::check_full_mask(mask, "__ballot_sync");
    uint32_t in = predicate != 0, out;
    emu::collective(4, "__ballot_sync", &in, 1, &out, 1, [](uint32_t (*i)[12], uint32_t (*o)[4]) {
        uint32_t word = 0;
        for (int l = 0; l < 32; l++) word |= (i[l][0] & 1u) << l;
        for (int l = 0; l < 32; l++) o[l][0] = word;
    });
    return out;
}

inline float __int_as_float(int x) { return emu::from_bits((uint32_t)x); }
inline float __uint_as_float(unsigned x) { return emu::from_bits(x); }
inline unsigned __float_as_uint(float x) { return emu::bits(x); }
inline int __float_as_int(float x) { return (int)emu::bits(x); }

#endif
