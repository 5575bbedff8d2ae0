// One process-wide pool of worker threads shared by every computation of the CPU backend.
//
// parallel_for(n, fn) runs fn(0) ... fn(n-1), each index exactly once, on the calling thread and on
// the workers. Callers only ever split work into independent outputs, so which thread runs an index
// never changes a result: outputs are bit-identical for every thread count.
#ifndef MMCA_CPU_THREAD_POOL_H
#define MMCA_CPU_THREAD_POOL_H

#include <cstdint>
#include <functional>

namespace mmca::cpu {

/** Threads in use, the calling thread included (>= 1). */
int pool_threads();

/**
 * The hardware threads of this machine (1 to 256), not the pool's size, which a user may change: work split
 * for it keeps every thread busy and stays the same for any configured thread count.
 */
int64_t machine_threads();

/** Resizes the pool; must not run concurrently with parallel_for. */
void set_pool_threads(int n);

/**
 * Runs fn(i) for i in [0, n). With `inline_only` (tiny work) everything runs on the caller. An
 * exception thrown by fn is rethrown on the caller after every index has finished.
 */
void parallel_for(int64_t n, const std::function<void(int64_t)> &fn, bool inline_only = false);

}  // namespace mmca::cpu

#endif
