// Host-side checks of what the kernels compute before any arithmetic (common.cuh, plan.h): the
// visibility rule of SPEC step 4 with key lengths and query positions, the head mapping of step 2,
// and the work decomposition: every output row (b, h, i) belongs to exactly one row of one tile per
// key range, every tile reads the kv head its heads map to, split-K ranges cover the keys exactly,
// and the workspace regions of split problems are disjoint and inside the size the plan reports.
// Runs on the CPU; no GPU needed.
#include <cstdio>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#include "common.cuh"
#include "plan.h"

namespace {

int failures = 0;

void expect(bool ok, const char *what, long long a, long long b, long long c) {
    if (!ok) {
        if (failures < 40) std::printf("FAIL %s (%lld, %lld, %lld)\n", what, a, b, c);
        failures++;
    }
}

using namespace mmca_cuda;

mmca_attention_params base() {
    mmca_attention_params p;
    std::memset(&p, 0, sizeof p);
    p.batch = 1;
    p.heads = 1;
    p.kv_heads = 1;
    p.dim_head = 64;
    return p;
}

void check_visibility() {
    mmca_attention_params p = base();
    // Causal, right-aligned: every (N, M) pair including N > M, where early queries see nothing.
    for (int n = 1; n <= 70; n += 3) {
        for (int m = 1; m <= 70; m += 5) {
            p.queries = n;
            p.keys = m;
            p.causal = 1;
            for (int i = 0; i < n; i++) {
                const int end = visible_end(p, 0, i, m);
                expect(end >= 0 && end <= m, "visible_end in [0, M]", n, m, i);
                for (int j = 0; j < m; j++) expect((j < end) == (j <= i + (m - n)), "right-aligned causal", i, j, m - n);
            }
            p.causal = 0;
            expect(visible_end(p, 0, 0, m) == m, "non-causal sees every key", n, m, 0);
        }
    }
    // Key lengths, clamped to [0, M], per batch element.
    std::vector<int32_t> lengths = {5, -2, 40, 17};
    p.batch = 4;
    p.keys = 20;
    p.queries = 3;
    p.key_lengths = lengths.data();
    const int want_limit[4] = {5, 0, 20, 17};
    for (int b = 0; b < 4; b++) expect(key_limit(p, b) == want_limit[b], "key length clamped", b, lengths[b], 0);
    p.key_lengths = nullptr;
    expect(key_limit(p, 1) == 20, "no key lengths: all keys", 1, 20, 0);
    // Query positions with a batch stride: j <= position, negative sees none, never past the limit.
    std::vector<int32_t> positions = {-1, 0, 7, 99, 3, 4, 5, -8};
    p.query_positions = positions.data();
    p.query_positions_batch_stride = 4;
    p.queries = 4;
    p.causal = 1;
    for (int b = 0; b < 2; b++) {
        for (int i = 0; i < 4; i++) {
            const int pos = positions[b * 4 + i];
            for (int limit : {0, 6, 20}) {
                const int end = visible_end(p, b, i, limit);
                for (int j = 0; j < 20; j++) expect((j < end) == (j < limit && j <= pos), "query positions", b, i, j);
            }
        }
    }
    p.causal = 0;
    expect(visible_end(p, 0, 0, 20) == 20, "positions ignored without causal", 0, 0, 20);
    // Query mask and rows past N.
    std::vector<uint8_t> mask = {1, 0, 1, 1, 0, 0, 1, 0};
    p.batch = 2;
    p.queries = 4;
    p.query_mask = mask.data();
    p.query_mask_batch_stride = 4;
    expect(query_active(p, 0, 0) && !query_active(p, 0, 1), "query mask", 0, 1, 0);
    expect(!query_active(p, 1, 4), "rows past N are inactive", 1, 4, 0);
    // Head mappings: MODULO g = h % G, GROUPED g = h / (H / G).
    p.heads = 8;
    p.kv_heads = 2;
    p.head_mapping = MMCA_HEAD_MAPPING_MODULO;
    for (int h = 0; h < 8; h++) expect(kv_head_of(p, h) == h % 2, "modulo mapping", h, 0, 0);
    p.head_mapping = MMCA_HEAD_MAPPING_GROUPED;
    for (int h = 0; h < 8; h++) expect(kv_head_of(p, h) == h / 4, "grouped mapping", h, 0, 0);
}

/* Every CTA of the plan, every row of its tile: each output row once per split, with the right kv head. */
void check_plan(int batch, int heads, int kv_heads, int queries, int keys, int mapping, int forced, int rows) {
    mmca_text_params tp;
    tp.self = base();
    tp.self.batch = batch;
    tp.self.heads = heads;
    tp.self.kv_heads = kv_heads;
    tp.self.queries = queries;
    tp.self.keys = keys;
    tp.self.head_mapping = mapping;
    tp.cross = tp.self;
    tp.cross.kv_heads = 1;  // the cross problem may have its own kv heads and keys
    tp.cross.keys = keys / 2 + 1;
    for (int problems = 1; problems <= 2; problems++) {
        const WorkPlan w = make_plan(tp, problems, rows, 64, 0, INT64_MAX, forced);
        std::map<std::tuple<int, int, int, int, int>, int> seen;  // (problem, b, h, i, split) -> count
        for (long long cta = 0; cta < w.ctas; cta++) {
            const WorkItem it = decode_work(w, cta);
            const mmca_attention_params &p = it.problem == 0 ? tp.self : tp.cross;
            const ProblemPlan &pp = w.problem[it.problem];
            expect(it.b >= 0 && it.b < batch && it.g >= 0 && it.g < p.kv_heads, "work item in range", cta, it.b, it.g);
            expect(it.split >= 0 && it.split < pp.splits, "split in range", cta, it.split, pp.splits);
            for (int r = 0; r < rows; r++) {
                const RowRef ref = row_of(p, pp, it, r);
                if (!ref.valid) continue;
                expect(ref.h >= 0 && ref.h < p.heads && ref.i >= 0 && ref.i < p.queries, "row in range", cta, ref.h, ref.i);
                expect(kv_head_of(p, ref.h) == it.g, "row reads its head's kv head", cta, ref.h, it.g);
                seen[{it.problem, it.b, ref.h, ref.i, it.split}]++;
            }
        }
        for (int k = 0; k < problems; k++) {
            const mmca_attention_params &p = k == 0 ? tp.self : tp.cross;
            const ProblemPlan &pp = w.problem[k];
            expect(pp.rows_per_head * pp.heads_per_tile <= rows, "tile rows fit the CTA", k, pp.rows_per_head, pp.heads_per_tile);
            for (int b = 0; b < batch; b++)
                for (int h = 0; h < p.heads; h++)
                    for (int i = 0; i < p.queries; i++)
                        for (int s = 0; s < pp.splits; s++) {
                            auto f = seen.find({k, b, h, i, s});
                            expect(f != seen.end() && f->second == 1, "each output row once per split", h, i, s);
                        }
            // Split ranges of any tile count cover [0, T) exactly.
            for (int T = 0; T < 40; T++) {
                int next = 0;
                for (int s = 0; s < pp.splits; s++) {
                    const int lo = (int)((long long)s * T / pp.splits), hi = (int)((long long)(s + 1) * T / pp.splits);
                    expect(lo == next && hi >= lo, "split ranges contiguous", T, s, lo);
                    next = hi;
                }
                expect(next == T, "split ranges cover the tiles", T, pp.splits, next);
            }
        }
        // Workspace regions: partials then (m, l) pairs per split problem, disjoint, inside the total.
        long long end = 0;
        for (int k = 0; k < problems; k++) {
            const mmca_attention_params &p = k == 0 ? tp.self : tp.cross;
            const ProblemPlan &pp = w.problem[k];
            if (pp.splits <= 1) continue;
            const long long rows_out = (long long)p.batch * p.heads * p.queries;
            expect(pp.partial_offset == end, "partials follow the previous problem", k, pp.partial_offset, end);
            expect(pp.stats_offset == pp.partial_offset + rows_out * pp.splits * p.dim_head, "stats after partials", k, 0, 0);
            end = pp.stats_offset + rows_out * pp.splits * 2;
        }
        expect(end == w.workspace_floats, "workspace size", end, w.workspace_floats, 0);
    }
}

void check_split_choice() {
    mmca_text_params tp;
    tp.self = base();
    tp.self.batch = 1;
    tp.self.heads = 32;
    tp.self.kv_heads = 8;
    tp.self.queries = 1;
    tp.self.keys = 32768;
    tp.cross = tp.self;
    // One decoding token: 8 tiles (4 heads each), far below a target of 528 CTAs: split, capped at kMaxSplits.
    WorkPlan w = make_plan(tp, 1, 64, 64, 528, INT64_MAX);
    expect(w.problem[0].heads_per_tile == 4 && w.problem[0].head_chunks == 1, "heads grouped per tile", w.problem[0].heads_per_tile, 0, 0);
    expect(w.problem[0].splits == kMaxSplits, "split up to the cap", w.problem[0].splits, kMaxSplits, 0);
    expect(w.ctas == 8LL * kMaxSplits, "grid of the split", w.ctas, 0, 0);
    // A smaller workspace gives fewer splits, none gives none; both still cover the keys.
    const int64_t full = w.workspace_floats * 4;
    WorkPlan half = make_plan(tp, 1, 64, 64, 528, full / 2);
    expect(half.problem[0].splits > 1 && half.problem[0].splits < kMaxSplits && half.workspace_floats * 4 <= full / 2,
           "split fits a smaller workspace", half.problem[0].splits, half.workspace_floats, full / 2);
    WorkPlan none = make_plan(tp, 1, 64, 64, 528, 0);
    expect(none.problem[0].splits == 1 && none.workspace_floats == 0 && none.combine_rows == 0, "no workspace, no split", none.problem[0].splits, 0, 0);
    // Short key ranges are not split below kMinTilesPerSplit tiles per range.
    tp.self.keys = 200;  // 4 tiles of 64
    WorkPlan shortk = make_plan(tp, 1, 64, 64, 528, INT64_MAX);
    expect(shortk.problem[0].splits == 4 / kMinTilesPerSplit, "short ranges split little", shortk.problem[0].splits, 0, 0);
    // A full grid is not split.
    tp.self.batch = 4;
    tp.self.queries = 4096;
    tp.self.keys = 4096;
    WorkPlan prefill = make_plan(tp, 1, 64, 64, 528, INT64_MAX);
    expect(prefill.problem[0].splits == 1 && prefill.problem[0].query_tiles == 64, "prefill unsplit", prefill.problem[0].splits, 0, 0);
}

}  // namespace

int main() {
    check_visibility();
    const int mappings[2] = {MMCA_HEAD_MAPPING_MODULO, MMCA_HEAD_MAPPING_GROUPED};
    for (int mapping : mappings) {
        for (int forced : {1, 3}) {
            check_plan(2, 8, 2, 1, 300, mapping, forced, 64);   // decoding: 4 heads per tile
            check_plan(2, 8, 2, 5, 300, mapping, forced, 64);   // 5 queries x 4 heads
            check_plan(1, 12, 4, 23, 90, mapping, forced, 64);  // 2 heads of 23 queries per tile (3 per group)
            check_plan(2, 4, 4, 130, 70, mapping, forced, 64);  // one head per tile, 3 query tiles
            check_plan(1, 6, 1, 16, 64, mapping, forced, 16);   // 16-row tiles: one head each
        }
    }
    check_split_choice();
    if (failures == 0) std::printf("visibility_test: all checks passed\n");
    else std::printf("visibility_test: %d failures\n", failures);
    return failures == 0 ? 0 : 1;
}
