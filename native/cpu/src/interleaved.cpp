#include "interleaved.h"

#include <atomic>

#include "attention.h"
#include "interleaved_kernel.h"
#include "isa.h"
#include "thread_pool.h"

namespace mmca::cpu {
namespace {

constexpr double kInlineWork = 32768;  // below this, waking workers costs more than it saves

}  // namespace

int64_t run_interleaved_attention(const mmca_interleaved_params &ip) {
    const mmca_attention_params &p = ip.attention;
    const int tile = query_tile(p);
    const int tiles = (p.queries + tile - 1) / tile;
    const int64_t per_tile = static_cast<int64_t>(p.batch) * p.kv_heads;
    const int64_t items = tiles * per_tile;
    const double work = static_cast<double>(p.batch) * p.heads * p.queries * p.keys * p.dim_head;
    const InterleavedTileFn kernel = current_interleaved_kernel();
    // The first overflowed row of the call, whichever thread finds it: the minimum wins.
    std::atomic<int64_t> first{-1};
    parallel_for(
        items,
        [&](int64_t idx) {
            // The last query tiles first: they see the most keys, and handing them out early balances the threads.
            const int t = tiles - 1 - static_cast<int>(idx / per_tile);
            const int64_t rest = idx % per_tile;
            const int b = static_cast<int>(rest / p.kv_heads);
            const int g = static_cast<int>(rest % p.kv_heads);
            const int q0 = t * tile;
            const int q1 = q0 + tile < p.queries ? q0 + tile : p.queries;
            const int64_t i = kernel(ip, b, g, q0, q1);
            if (i < 0) return;
            const int64_t row = static_cast<int64_t>(b) * p.queries + i;
            int64_t seen = first.load(std::memory_order_relaxed);
            while ((seen < 0 || row < seen) && !first.compare_exchange_weak(seen, row, std::memory_order_relaxed)) {
            }
        },
        work < kInlineWork);
    return first.load();
}

}  // namespace mmca::cpu
