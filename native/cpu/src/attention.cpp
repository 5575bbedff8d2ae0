#include "attention.h"

#include <memory>

#include "attention_kernel.h"
#include "isa.h"
#include "thread_pool.h"

namespace mmca::cpu {
namespace {

// Query rows per tile: about 128 stacked rows (query tile x heads of a group), which keeps a tile's
// packed queries and accumulators in L2 while each key/value tile is reused by all of them.
int query_tile(const mmca_attention_params &p) {
    int r = p.heads / p.kv_heads;
    int t = 128 / r;
    if (t < 1) t = 1;
    if (t > 64) t = 64;
    return t;
}

struct Plan {
    int tile;
    int tiles;    // query tiles per (batch, group)
    int64_t items;
    double work;  // rough multiply-adds, to run tiny problems on the caller alone

    // Item index -> (b, g, query range). The last query tiles come first: under a causal mask they
    // see the most keys, and handing them out early balances the threads.
    void item(int64_t idx, const mmca_attention_params &p, int &b, int &g, int &q0, int &q1) const {
        int64_t per_tile = static_cast<int64_t>(p.batch) * p.kv_heads;
        int t = tiles - 1 - static_cast<int>(idx / per_tile);
        int64_t rest = idx % per_tile;
        b = static_cast<int>(rest / p.kv_heads);
        g = static_cast<int>(rest % p.kv_heads);
        q0 = t * tile;
        q1 = q0 + tile < p.queries ? q0 + tile : p.queries;
    }
};

Plan plan_for(const mmca_attention_params &p) {
    Plan plan;
    plan.tile = query_tile(p);
    plan.tiles = (p.queries + plan.tile - 1) / plan.tile;
    plan.items = static_cast<int64_t>(plan.tiles) * p.batch * p.kv_heads;
    plan.work = static_cast<double>(p.batch) * p.heads * p.queries * p.keys * p.dim_head;
    return plan;
}

constexpr double kInlineWork = 32768;  // below this, waking workers costs more than it saves

// Per-thread scratch, grown on demand and released when the thread ends.
struct Scratch {
    std::unique_ptr<float[]> data;
    size_t size = 0;
};

}  // namespace

float *thread_scratch(size_t floats) {
    thread_local Scratch s;
    if (s.size < floats) {
        s.data.reset(new float[floats]);
        s.size = floats;
    }
    return s.data.get();
}

void run_attention(const mmca_attention_params &p) {
    const Plan plan = plan_for(p);
    const AttentionTileFn kernel = current_tile_kernel();
    parallel_for(
        plan.items,
        [&](int64_t idx) {
            int b, g, q0, q1;
            plan.item(idx, p, b, g, q0, q1);
            kernel(p, b, g, q0, q1);
        },
        plan.work < kInlineWork);
}

void run_text_attention(const mmca_text_params &p) {
    // Both halves share batch, heads, kv_heads and queries, so one plan covers both.
    const Plan plan = plan_for(p.self);
    const double work = plan.work + plan_for(p.cross).work;
    const AttentionTileFn kernel = current_tile_kernel();
    parallel_for(
        plan.items,
        [&](int64_t idx) {
            int b, g, q0, q1;
            plan.item(idx, p.self, b, g, q0, q1);
            kernel(p.self, b, g, q0, q1);
            kernel(p.cross, b, g, q0, q1);
        },
        work < kInlineWork);
}

}  // namespace mmca::cpu
