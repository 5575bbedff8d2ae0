/*
 * How one launch divides attention problems into CTAs: plain C++ (no CUDA headers), so the launcher,
 * the workspace-size query and the host emulation test compute the same decomposition.
 *
 * A CTA owns a tile of `rows` query rows that all read the same kv head g of one batch element b.
 * Rows are (query head, query) pairs of the heads_per_group = heads / kv_heads query heads that share g:
 *   - queries >= rows: one head per tile, `rows` consecutive queries (the usual prefill tiling);
 *   - queries <  rows: heads_per_tile = min(heads_per_group, rows / queries) heads of all the queries in
 *     one tile (decoding: one step of a few tokens for several heads reads each cached key once).
 * Row r of a tile is head  chunk * heads_per_tile + r / rows_per_head  (within the group), query
 * query_tile * rows_per_head + r % rows_per_head.
 *
 * Split-K (flash-decoding): when the tiles alone would leave the GPU mostly idle (few queries, long key
 * ranges), each tile's key range is cut into `splits` parts, one CTA each; the CTAs write unnormalised
 * partial results (running max m, sum l, output accumulator o) to a device workspace and a second
 * kernel combines them:  M = max_s m_s,  out = sum_s 2^(m_s - M) o_s / sum_s 2^(m_s - M) l_s.
 */
#ifndef MMCA_CUDA_PLAN_H
#define MMCA_CUDA_PLAN_H

#include <stdint.h>

#include "mmca/attention_params.h"

/* Functions both the host and the kernels call (decode_work); nothing else here needs nvcc. */
#if defined(__CUDACC__)
#define MMCA_HOST_DEVICE __host__ __device__
#else
#define MMCA_HOST_DEVICE
#endif

namespace mmca_cuda {

struct ProblemPlan {
    int32_t heads_per_group;  // heads / kv_heads
    int32_t rows_per_head;    // query rows of one head in a tile
    int32_t heads_per_tile;   // query heads sharing one tile
    int32_t head_chunks;      // tiles needed to cover heads_per_group
    int32_t query_tiles;      // tiles needed to cover the queries
    int32_t splits;           // key ranges per tile (1: no split, the CTA writes the output itself)
    int64_t ctas_per_batch;   // kv_heads * head_chunks * query_tiles * splits
    int64_t partial_offset;   // floats into the workspace where this problem's partial outputs start
    int64_t stats_offset;     // floats into the workspace where its (m, l) pairs start
};

struct WorkPlan {
    ProblemPlan problem[2];
    int32_t problems;         // 1 (attention) or 2 (the fused text operation: self, then cross)
    int32_t batch;
    int64_t ctas_per_batch;   // over all problems
    int64_t ctas;             // batch * ctas_per_batch: the grid
    int64_t workspace_floats; // partials of every split problem
    int64_t combine_rows;     // output rows (b, h, i) of the split problems, which the combine kernel writes
};

/* Never more key ranges than this per tile, and never a range shorter than kMinTilesPerSplit key tiles. */
constexpr int kMaxSplits = 64;
constexpr int kMinTilesPerSplit = 2;

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

/* Rows and key ranges of one problem, before any split. */
inline ProblemPlan plan_tiles(const mmca_attention_params &p, int rows) {
    ProblemPlan pp = {};
    pp.heads_per_group = p.heads / p.kv_heads;
    if (p.queries >= rows) {
        pp.rows_per_head = rows;
        pp.heads_per_tile = 1;
    } else {
        pp.rows_per_head = p.queries;
        const int fit = rows / p.queries;
        pp.heads_per_tile = fit < pp.heads_per_group ? fit : pp.heads_per_group;
    }
    pp.head_chunks = (int32_t)ceil_div(pp.heads_per_group, pp.heads_per_tile);
    pp.query_tiles = (int32_t)ceil_div(p.queries, pp.rows_per_head);
    pp.splits = 1;
    return pp;
}

inline int64_t tiles_per_batch(const mmca_attention_params &p, const ProblemPlan &pp) {
    return (int64_t)p.kv_heads * pp.head_chunks * pp.query_tiles;
}

/* Floats of workspace one problem needs with `splits` key ranges: an output row and an (m, l) pair per split. */
inline int64_t partial_floats(const mmca_attention_params &p, int splits) {
    if (splits <= 1) return 0;
    return (int64_t)p.batch * p.heads * p.queries * splits * (p.dim_head + 2);
}

/*
 * The decomposition of `problems` problems (tp.self, then tp.cross) into CTAs of `rows` query rows over
 * key tiles of `keys_per_tile`. Split-K is used where the unsplit grid has fewer than `target_ctas` CTAs
 * (about two waves of the device) and fits in `workspace_bytes`; forced_splits > 0 imposes a split
 * count on every problem instead (tests), still capped by the workspace and by the key tiles.
 */
inline WorkPlan make_plan(const mmca_text_params &tp, int problems, int rows, int keys_per_tile, int64_t target_ctas,
                          int64_t workspace_bytes, int forced_splits = 0) {
    WorkPlan w = {};
    w.problems = problems;
    w.batch = tp.self.batch;
    const mmca_attention_params *ps[2] = {&tp.self, &tp.cross};
    int64_t unsplit = 0;
    for (int i = 0; i < problems; i++) {
        w.problem[i] = plan_tiles(*ps[i], rows);
        unsplit += (int64_t)w.batch * tiles_per_batch(*ps[i], w.problem[i]);
    }
    int wanted[2] = {1, 1};
    for (int i = 0; i < problems; i++) {
        const int64_t key_tiles = ceil_div(ps[i]->keys, keys_per_tile);
        int64_t cap = key_tiles / kMinTilesPerSplit;
        if (forced_splits > 0) cap = key_tiles;
        if (cap > kMaxSplits) cap = kMaxSplits;
        int64_t s = 1;
        if (forced_splits > 0) s = forced_splits;
        else if (unsplit < target_ctas) s = ceil_div(target_ctas, unsplit);
        if (s > cap) s = cap;
        wanted[i] = s < 1 ? 1 : (int)s;
    }
    // Fewer splits where the caller's workspace is too small; no workspace means no split.
    const int64_t budget = workspace_bytes > 0 ? workspace_bytes / (int64_t)sizeof(float) : 0;
    for (;;) {
        int64_t need = 0;
        for (int i = 0; i < problems; i++) need += partial_floats(*ps[i], wanted[i]);
        if (need <= budget) break;
        int widest = wanted[0] >= wanted[problems - 1] ? 0 : problems - 1;
        wanted[widest] = wanted[widest] > 2 ? wanted[widest] - 1 : 1;
    }
    int64_t offset = 0;
    for (int i = 0; i < problems; i++) {
        ProblemPlan &pp = w.problem[i];
        pp.splits = wanted[i];
        pp.ctas_per_batch = tiles_per_batch(*ps[i], pp) * pp.splits;
        w.ctas_per_batch += pp.ctas_per_batch;
        if (pp.splits > 1) {
            const int64_t rows_out = (int64_t)ps[i]->batch * ps[i]->heads * ps[i]->queries;
            pp.partial_offset = offset;
            pp.stats_offset = offset + rows_out * pp.splits * ps[i]->dim_head;
            offset += partial_floats(*ps[i], pp.splits);
            w.combine_rows += rows_out;
        }
    }
    w.workspace_floats = offset;
    w.ctas = (int64_t)w.batch * w.ctas_per_batch;
    return w;
}

/* What one CTA computes: problem, batch element, kv head, head chunk, query tile and key range. */
struct WorkItem {
    int problem, b, g, chunk, query_tile, split;
};

/*
 * CTA index -> work. Batch elements vary slowest, then problems (so the self and cross CTAs of the
 * fused text operation run side by side), kv heads, head chunks, query tiles and key ranges. Query
 * tiles run last-first: with causal masking the last tiles scan the most keys, and starting them first
 * keeps the tail of the grid short.
 */
MMCA_HOST_DEVICE inline WorkItem decode_work(const WorkPlan &w, int64_t cta) {
    WorkItem it;
    it.b = (int)(cta / w.ctas_per_batch);
    int64_t rem = cta % w.ctas_per_batch;
    it.problem = 0;
    if (w.problems > 1 && rem >= w.problem[0].ctas_per_batch) {
        rem -= w.problem[0].ctas_per_batch;
        it.problem = 1;
    }
    const ProblemPlan &pp = w.problem[it.problem];
    it.split = (int)(rem % pp.splits);
    rem /= pp.splits;
    it.query_tile = pp.query_tiles - 1 - (int)(rem % pp.query_tiles);
    rem /= pp.query_tiles;
    it.chunk = (int)(rem % pp.head_chunks);
    rem /= pp.head_chunks;
    it.g = (int)rem;
    return it;
}

}  // namespace mmca_cuda

#endif
