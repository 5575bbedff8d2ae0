#include "attention.h"

#include <atomic>
#include <cmath>
#include <memory>
#include <vector>

#include "attention_kernel.h"
#include "isa.h"
#include "thread_pool.h"
#include "visibility.h"

namespace mmca::cpu {
namespace {

// A call with fewer (batch, group, query tile) items than this splits its keys into chunks that run as
// separate items and are merged (flash-decoding), so a one-token step over a long cache uses every core:
// four items per hardware thread of the machine, at least 8. Not the pool's size: the split, and so the
// order of every sum, depends on the shapes and the machine alone, and results stay bit-identical for any
// number of threads. (A fixed 16 split D1's batch of 8 on two cores in two chunks each, whose extra
// merge and the self and cross halves run apart cost 6% of its attention.)
int64_t min_items() {
    static const int64_t n = 4 * machine_threads() < 8 ? 8 : 4 * machine_threads();
    return n;
}
// Keys per chunk are a multiple of this (a whole number of the kernel's key tiles).
constexpr int kChunkQuantum = 64;

// A call whose query tiles stack at most this many rows per group (a decoding step: one query of each of a
// group's heads) gives each item every group of its batch element: a step is a pass over the cached keys and
// values, whose rows hold all groups side by side, and reading whole rows streams where a group's slice of
// every row would not (D1 at batch 8: a third of the time).
constexpr int kGroupedRows = 4;

struct Plan {
    int tile;
    int tile_queries;  // the queries of the largest tile: tile, or fewer when the call has fewer
    int tiles;    // query tiles per (batch, group)
    int groups;   // kv groups per item: 1, or every group (see kGroupedRows)
    int64_t items;
    int chunks;   // key chunks per item (1: no split)
    int span;     // keys per chunk
    double work;  // rough multiply-adds, to run tiny problems on the caller alone

    // Item index -> (b, first group g, query range). The last query tiles come first: under a causal mask
    // they see the most keys, and handing them out early balances the threads.
    void item(int64_t idx, const mmca_attention_params &p, int &b, int &g, int &q0, int &q1) const {
        const int blocks = p.kv_heads / groups;
        int64_t per_tile = static_cast<int64_t>(p.batch) * blocks;
        int t = tiles - 1 - static_cast<int>(idx / per_tile);
        int64_t rest = idx % per_tile;
        b = static_cast<int>(rest / blocks);
        g = static_cast<int>(rest % blocks) * groups;
        q0 = t * tile;
        q1 = q0 + tile < p.queries ? q0 + tile : p.queries;
    }
};

Plan plan_for(const mmca_attention_params &p) {
    Plan plan;
    plan.tile = query_tile(p);
    plan.tiles = (p.queries + plan.tile - 1) / plan.tile;
    plan.tile_queries = plan.tile < p.queries ? plan.tile : p.queries;
    plan.groups = static_cast<int64_t>(plan.tile_queries) * (p.heads / p.kv_heads) <= kGroupedRows ? p.kv_heads : 1;
    plan.items = static_cast<int64_t>(plan.tiles) * p.batch * (p.kv_heads / plan.groups);
    plan.work = static_cast<double>(p.batch) * p.heads * p.queries * p.keys * p.dim_head;
    const int max_chunks = (p.keys + kChunkQuantum - 1) / kChunkQuantum;
    plan.chunks = 1;
    const int64_t least = min_items();
    if (plan.items < least && max_chunks > 1) {
        const int64_t want = (least + plan.items - 1) / plan.items;
        plan.chunks = static_cast<int>(want < max_chunks ? want : max_chunks);
    }
    int span = (p.keys + plan.chunks - 1) / plan.chunks;
    plan.span = (span + kChunkQuantum - 1) / kChunkQuantum * kChunkQuantum;
    plan.chunks = (p.keys + plan.span - 1) / plan.span;
    return plan;
}

constexpr double kInlineWork = 32768;  // below this, waking workers costs more than it saves

// Per-thread scratch, grown on demand and released when the thread ends.
struct Scratch {
    std::unique_ptr<float[]> data;
    size_t size = 0;
};

// The kv-group row r of a work item reads query head head_of(r % R) (see attention_kernel.h).
int head_of(const mmca_attention_params &p, int g, int hr) {
    const int R = p.heads / p.kv_heads;
    return p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? hr * p.kv_heads + g : g * R + hr;
}

// Merges the chunk states of one item and writes its rows: m = max_c m_c, l = sum_c l_c exp(m_c - m),
// o = sum_c O_c exp(m_c - m) / l (zero when no chunk saw a key), chunks in order.
// The first overflowed row of a call, whichever thread finds it: the minimum wins.
struct FirstOverflow {
    std::atomic<int64_t> row{-1};

    void report(int64_t r) {
        if (r < 0) return;
        int64_t seen = row.load(std::memory_order_relaxed);
        while ((seen < 0 || r < seen) && !row.compare_exchange_weak(seen, r, std::memory_order_relaxed)) {
        }
    }
};

// Chunk c's state of row r is at partial[c * stride + r * (D + 2)]. Returns the first query index of the
// item whose merged state is not finite (an overflowed logit), or whose max is -inf although the row sees a key
// (every logit overflowed downwards), or -1.
int64_t merge_chunks(const mmca_attention_params &p, int b, int g, int q0, int q1, const float *partial, int chunks,
                  size_t stride) {
    const int R = p.heads / p.kv_heads;
    const int D = p.dim_head;
    const int rows = (q1 - q0) * R;
    float *ob = static_cast<float *>(p.o) + b * p.o_batch_stride;
    const uint8_t *qm = p.query_mask ? p.query_mask + b * p.query_mask_batch_stride : nullptr;
    const int64_t key_length = element_key_length(p, b);
    const int64_t first_key = first_unmasked_key(p, b, key_length);
    int64_t overflow = -1;
    for (int r = 0; r < rows; r++) {
        float mx = -INFINITY;
        for (int c = 0; c < chunks; c++) {
            const float mc = partial[c * stride + static_cast<size_t>(r) * (D + 2) + D];
            mx = mc > mx ? mc : mx;
        }
        float *dst = ob + static_cast<int64_t>(q0 + r / R) * p.o_row_stride + head_of(p, g, r % R) * p.o_head_stride;
        if (!(mx <= 3.40282347e38f) && mx != -INFINITY) {  // +inf or NaN: a logit overflowed
            const int64_t i = q0 + r / R;
            overflow = overflow < 0 || i < overflow ? i : overflow;
        }
        if (mx == -INFINITY) {
            const int i = q0 + r / R;
            if ((qm == nullptr || qm[i] != 0) && last_visible_key(p, b, i, key_length) >= first_key) {
                overflow = overflow < 0 || i < overflow ? i : overflow;  // it saw keys, every logit -inf
            }
            for (int d = 0; d < D; d++) dst[d] = 0.0f;
            continue;
        }
        float l = 0;
        for (int d = 0; d < D; d++) dst[d] = 0.0f;
        for (int c = 0; c < chunks; c++) {
            const float *st = partial + c * stride + static_cast<size_t>(r) * (D + 2);
            if (st[D] == -INFINITY) continue;
            const float f = std::exp(st[D] - mx);
            l += st[D + 1] * f;
            for (int d = 0; d < D; d++) dst[d] += st[d] * f;
        }
        if (!(l <= 3.40282347e38f)) {
            const int64_t i = q0 + r / R;
            overflow = overflow < 0 || i < overflow ? i : overflow;
        }
        const float inv = l > 0 ? 1.0f / l : 0.0f;
        for (int d = 0; d < D; d++) dst[d] *= inv;
    }
    return overflow;
}

// One attention problem split into key chunks: every (item, chunk) on the pool, then every item merged.
int64_t run_chunked(const mmca_attention_params &p, const Plan &plan, AttentionTileFn kernel) {
    const int R = p.heads / p.kv_heads;
    // Every state is written by its chunk before the merge reads it: no need to clear the buffer (megabytes
    // at a decoding step's sizes, cleared on every call, when sized for a full query tile).
    const size_t per_group = static_cast<size_t>(plan.tile_queries) * R * (p.dim_head + 2);
    const size_t per_chunk = per_group * plan.groups;
    std::unique_ptr<float[]> partial(new float[static_cast<size_t>(plan.items) * plan.chunks * per_chunk]);
    parallel_for(plan.items * plan.chunks, [&](int64_t w) {
        const int64_t idx = w / plan.chunks;
        const int c = static_cast<int>(w % plan.chunks);
        int b, g, q0, q1;
        plan.item(idx, p, b, g, q0, q1);
        const int k0 = c * plan.span;
        const int k1 = k0 + plan.span < p.keys ? k0 + plan.span : p.keys;
        float *dst = partial.get() + (static_cast<size_t>(idx) * plan.chunks + c) * per_chunk;
        kernel(p, b, g, plan.groups, q0, q1, k0, k1, dst);
    });
    FirstOverflow first;
    parallel_for(plan.items, [&](int64_t idx) {
        int b, g, q0, q1;
        plan.item(idx, p, b, g, q0, q1);
        // The kernel wrote group gi's rows after gi * rows of the chunk's state.
        const size_t rows = static_cast<size_t>(q1 - q0) * R * (p.dim_head + 2);
        for (int gi = 0; gi < plan.groups; gi++) {
            const int64_t i = merge_chunks(p, b, g + gi, q0, q1,
                                           partial.get() + static_cast<size_t>(idx) * plan.chunks * per_chunk + gi * rows,
                                           plan.chunks, per_chunk);
            if (i >= 0) first.report(static_cast<int64_t>(b) * p.queries + i);
        }
    });
    return first.row.load();
}

}  // namespace

// Query rows per tile: about 256 stacked rows (query tile x heads of a group). Each key tile is transposed
// once per item, so more rows spread that cost thinner (A2: 7% less CPU time than at 128 rows); the
// item's packed queries, accumulators and scores (3 x 256 x 64 floats at dim_head 64) still fit in L2.
int query_tile(const mmca_attention_params &p) {
    int r = p.heads / p.kv_heads;
    int t = 256 / r;
    if (t < 1) t = 1;
    if (t > 128) t = 128;
    return t;
}

float *thread_scratch(size_t floats) {
    thread_local Scratch s;
    if (s.size < floats) {
        s.data.reset(new float[floats]);
        s.size = floats;
    }
    return s.data.get();
}

int64_t run_attention(const mmca_attention_params &p) {
    const Plan plan = plan_for(p);
    const AttentionTileFn kernel = current_tile_kernel();
    if (plan.chunks > 1) {
        return run_chunked(p, plan, kernel);
    }
    FirstOverflow first;
    parallel_for(
        plan.items,
        [&](int64_t idx) {
            int b, g, q0, q1;
            plan.item(idx, p, b, g, q0, q1);
            const int64_t i = kernel(p, b, g, plan.groups, q0, q1, 0, p.keys, nullptr);
            if (i >= 0) first.report(static_cast<int64_t>(b) * p.queries + i);
        },
        plan.work < kInlineWork);
    return first.row.load();
}

int64_t run_text_attention(const mmca_text_params &p) {
    // Both halves share batch, heads, kv_heads and queries, so one plan covers both.
    const Plan self = plan_for(p.self);
    const Plan cross = plan_for(p.cross);
    const int64_t rows = static_cast<int64_t>(p.self.batch) * p.self.queries;
    if (self.chunks > 1 || cross.chunks > 1) {  // too few items to fill the cores: each half split on its own
        const int64_t s = run_attention(p.self);
        const int64_t c = run_attention(p.cross);
        return s >= 0 ? s : (c >= 0 ? rows + c : -1);
    }
    const double work = self.work + cross.work;
    const AttentionTileFn kernel = current_tile_kernel();
    FirstOverflow first;
    parallel_for(
        self.items,
        [&](int64_t idx) {
            int b, g, q0, q1;
            self.item(idx, p.self, b, g, q0, q1);
            const int64_t s = kernel(p.self, b, g, self.groups, q0, q1, 0, p.self.keys, nullptr);
            const int64_t c = kernel(p.cross, b, g, self.groups, q0, q1, 0, p.cross.keys, nullptr);
            if (s >= 0) first.report(static_cast<int64_t>(b) * p.self.queries + s);
            if (c >= 0) first.report(rows + static_cast<int64_t>(b) * p.self.queries + c);
        },
        work < kInlineWork);
    return first.row.load();
}

}  // namespace mmca::cpu
