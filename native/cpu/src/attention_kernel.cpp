// Fused masked grouped-query attention, one (batch, kv group, query tile) at a time.
//
// This file is compiled three times (see native/cpu/CMakeLists.txt) with
//   MMCA_ISA_SUFFIX  the function name suffix: portable, avx2, avx512
//   MMCA_VEC_WIDTH   floats per SIMD vector: 4 (SSE2), 8 (AVX2), 16 (AVX-512)
//   MMCA_VEC_CHUNK   vectors per register block column (how many accumulators per row fit)
//   MMCA_ROW_BLOCK   query rows per register block
// and the matching -m flags. Everything except the exported entry point has internal linkage and
// no standard-library template is used here, so no code built with wide instructions can be shared
// with (and leak into) another path.
//
// The maths (SPEC steps 2-5), per query row i of head h reading kv head g:
//   s_j = scale * q_i . k_j   for visible keys j (key mask, and j <= i + M - N when causal)
//   o_i = sum_j exp(s_j - max) v_j / sum_j exp(s_j - max)
// computed over key tiles of TK keys with the running-max (online) softmax:
//   m' = max(m, max_j s_j);  alpha = exp(m - m');  l = alpha * l + sum_j exp(s_j - m');
//   O = alpha * O + sum_j exp(s_j - m') v_j;  finally o_i = O / l (zero when no key is visible).
#include <cstdint>
#include <cstring>

#include "attention_kernel.h"
#include "kernel_vector.h"
#include "visibility.h"

#define MMCA_CAT2(a, b) a##b
#define MMCA_CAT(a, b) MMCA_CAT2(a, b)
#define MMCA_ENTRY MMCA_CAT(attention_tile_, MMCA_ISA_SUFFIX)

namespace mmca::cpu {
namespace {

using namespace vec;  // load, store, splat, the reductions, vexp, inv_norm, softmax_step, qk_block, pv_block, pv_rows

constexpr int MR = MMCA_ROW_BLOCK;  // query rows per register block (MR x NV accumulators)
constexpr int TK = 64;              // keys per tile

inline int min_int(int a, int b) { return a < b ? a : b; }

// A single row block of at most this many rows (one query of each of a group's four heads) has its values
// accumulated in blocks of this many rows rather than MR: a decoding step spends most of its multiply-adds there.
constexpr int kDirectRows = 4;

// A decoding step (the direct path) reads a tile's keys and values kKeyBlock rows at a time, copied into L1 in
// memory order (copy_row), row by row, a key's k right before its v. Each group's slice of the rows read in
// place, group after group, defeats the hardware prefetcher (rows 1 or 2 KiB apart for four groups of 64):
// D1 at batch 8 read its cache at 6 GB/s that way.
constexpr int kKeyBlock = 8;
// The rows ahead are asked for (RowPrefetcher) a few cache lines at a time all through the work on a tile, up to
// kAheadRows rows past the row being copied (or past the tile, during its value sums): kCopyLines per row copied,
// kScoreLines per query row of each four keys scored, kValueLines per group's value sums of a key block. Asked
// for in bursts (a row's 32 lines at once, with the copies), they stalled on the core's few outstanding misses
// and memory idled while the tile was computed: one cross-attention call at batch 8 over a [k | v] cache took
// 15% longer (same-process A/B).
constexpr int kAheadRows = 32;
constexpr int kCopyLines = 16, kScoreLines = 4, kValueLines = 16;

// y[g * Dp + d] = x[g * head + d] for groups g < groups, d < D, zero for d in [D, Dp): one key or value row of every
// group, copied in memory order. (A pure read loop over a decoding cache runs at 6 GB/s here in group-slice order,
// 11-16 GB/s in row order.)
inline void copy_row(const float *x, int groups, int64_t head, int D, int Dp, float *y) {
    const int Dv = D / W * W;
    for (int g = 0; g < groups; g++, x += head, y += Dp) {
        for (int d = 0; d < Dv; d += W) store(y + d, load(x + d));
        for (int d = Dv; d < D; d++) y[d] = x[d];
        for (int d = D; d < Dp; d++) y[d] = 0;
    }
}

// A cursor over the cache lines of an item's key and value rows, in memory order (a row's k slices, then its v
// slices, one line per 16 floats), that asks for a few lines at a time, never past row `limit`.
struct RowPrefetcher {
    const float *k, *v;
    int64_t ldk, ldv, kh, vh;
    int groups, lines, end;  // lines per slice; rows end at `end`
    int row = 0, part = 0, line = 0;
    int limit = 0;           // rows [row, limit) may be asked for
    void skip_to(int r) {
        if (row < r) {
            row = r;
            part = line = 0;
        }
    }
    void issue(int n) {
        const int stop = limit < end ? limit : end;
        for (; n > 0 && row < stop; n--) {
            const float *x = part < groups ? k + row * ldk + part * kh : v + row * ldv + (part - groups) * vh;
            __builtin_prefetch(x + line * 16);
            if (++line == lines) {
                line = 0;
                if (++part == 2 * groups) {
                    part = 0;
                    row++;
                }
            }
        }
    }
};

// S[r][c] = Q[r] . K[c] for the `rows` real rows of the single row block and the kn keys of a key block, straight
// from K's rows (stride ldk). Four keys at a time, so that each query vector loaded serves four products; the
// lanes of the four products are summed together once at the end (hsum4).
inline void direct_scores(const float *Q, int ldq, int rows, const float *K, int64_t ldk, int kn, int D, float *S,
                          RowPrefetcher &pf) {
    const int Dv = D / W * W;
    int c = 0;
    for (; c + 4 <= kn; c += 4) {
        const float *k0 = K + c * ldk, *k1 = k0 + ldk, *k2 = k1 + ldk, *k3 = k2 + ldk;
        for (int r = 0; r < rows; r++) {
            pf.issue(kScoreLines);
            const float *qr = Q + r * ldq;
            vf a0 = vf{}, a1 = vf{}, a2 = vf{}, a3 = vf{};
            for (int d = 0; d < Dv; d += W) {
                const vf q = load(qr + d);
                a0 += q * load(k0 + d);
                a1 += q * load(k1 + d);
                a2 += q * load(k2 + d);
                a3 += q * load(k3 + d);
            }
            float *sr = S + r * TK + c;
            hsum4(a0, a1, a2, a3, sr);
            for (int d = Dv; d < D; d++) {
                sr[0] += qr[d] * k0[d];
                sr[1] += qr[d] * k1[d];
                sr[2] += qr[d] * k2[d];
                sr[3] += qr[d] * k3[d];
            }
        }
    }
    for (; c < kn; c++) {
        const float *kc = K + c * ldk;
        for (int r = 0; r < rows; r++) {
            const float *qr = Q + r * ldq;
            vf acc = vf{};
            for (int d = 0; d < Dv; d += W) acc += load(qr + d) * load(kc + d);
            float s = hsum(acc);
            for (int d = Dv; d < D; d++) s += qr[d] * kc[d];
            S[r * TK + c] = s;
        }
    }
}

}  // namespace

int64_t MMCA_ENTRY(const mmca_attention_params &p, int b, int g0, int groups, int q0, int q1, int k0, int k1,
                   float *partial) {
    static_assert(TK % (W * NV) == 0, "a key tile must be a whole number of register block columns");
    const int H = p.heads;
    const int G = p.kv_heads;
    const int R = H / G;  // query heads per kv head, stacked as rows of one block
    const int D = p.dim_head;
    const int Dp = round_up(D, W);
    const int rows = (q1 - q0) * R;
    const int rows_p = round_up(rows, MR);
    const float *qb = static_cast<const float *>(p.q) + b * p.q_batch_stride;
    const float *kb0 = static_cast<const float *>(p.k) + b * p.k_batch_stride + g0 * p.k_head_stride;
    const float *vb0 = static_cast<const float *>(p.v) + b * p.v_batch_stride + g0 * p.v_head_stride;
    float *ob = static_cast<float *>(p.o) + b * p.o_batch_stride;
    const uint8_t *km = p.key_mask ? p.key_mask + b * p.key_mask_batch_stride : nullptr;
    const uint8_t *qm = p.query_mask ? p.query_mask + b * p.query_mask_batch_stride : nullptr;
    // Keys past the element's length (a partly filled cache) are never visible; with causal masking a
    // query sees keys up to its position (given, or right-aligned i + M - N).
    const int64_t key_length = element_key_length(p, b);

    // Scratch layout (floats): per group of the item, Q, O [rows_p][Dp] and m, l, alpha [rows_p]; last,
    // active, block flags [rows_p] (the same for every group); Kt [D][TK]; V [TK][Dp]; S [groups][rows_p][TK]
    // (the direct path scores every group of a tile before their softmax); key bias [TK]; ones [rows_p]; a key
    // block [kKeyBlock][groups][Dp] and a value tile [TK][groups][Dp] (the direct path's copies).
    const size_t slot = 2 * static_cast<size_t>(rows_p) * Dp + 3 * static_cast<size_t>(rows_p);
    const size_t need = groups * slot + 3 * static_cast<size_t>(rows_p) + static_cast<size_t>(D) * TK
                        + static_cast<size_t>(TK) * Dp + static_cast<size_t>(groups) * rows_p * TK + TK + rows_p
                        + static_cast<size_t>(kKeyBlock + TK) * groups * Dp;
    float *const slots = thread_scratch(need);
    float *last = slots + groups * slot;  // last visible key index of the row (as float; exact below 2^24)
    float *active = last + rows_p;
    bool *on_block = reinterpret_cast<bool *>(active + rows_p);  // one per row block: rows_p floats' room
    float *Kt = active + 2 * static_cast<size_t>(rows_p);
    float *V = Kt + static_cast<size_t>(D) * TK;
    float *S = V + static_cast<size_t>(TK) * Dp;
    float *bias = S + static_cast<size_t>(groups) * rows_p * TK;
    float *ones = bias + TK;  // alpha of a tile's later key blocks: their rows' O is already rescaled
    for (int r = 0; r < rows_p; r++) ones[r] = 1.0f;
    float *block = ones + rows_p;  // the direct path's key block: [kKeyBlock][groups][Dp]
    float *value_tile = block + static_cast<size_t>(kKeyBlock) * groups * Dp;  // values needing padding: [TK][groups][Dp]
    const int block_ld = groups * Dp;
    // With a single row block (a decoding step: the group's heads for one query) transposing K would cost more
    // than the scores: they are dot products over K's rows instead (direct_scores), every group of the item
    // over each key block in turn.
    const bool direct = rows_p == MR;
    const bool v_in_place = Dp == D;  // V read where it is: its rows need no padding to whole vectors
    if (direct)  // the block's padding rows: never scored, zero weights for the value blocks' full-block loads
        for (int gi = 0; gi < groups; gi++)
            std::memset(S + (static_cast<size_t>(gi) * rows_p + rows) * TK, 0,
                        sizeof(float) * static_cast<size_t>(rows_p - rows) * TK);
    // The state of the item's gi-th group (kv head g0 + gi).
    struct Group {
        float *Q, *O, *m, *l, *alpha;
        const float *kb, *vb;
        int g;
    };
    auto group = [&](int gi) {
        float *Q = slots + gi * slot;
        float *O = Q + static_cast<size_t>(rows_p) * Dp;
        float *m = O + static_cast<size_t>(rows_p) * Dp;
        return Group{Q, O, m, m + rows_p, m + 2 * rows_p, kb0 + gi * p.k_head_stride, vb0 + gi * p.v_head_stride,
                     g0 + gi};
    };

    // Rows are query-major: row r is query q0 + r / R of the r % R-th head of group g.
    auto head_of = [&](int g, int hr) { return p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? hr * G + g : g * R + hr; };
    int64_t max_last = -1;  // the largest key any active row sees
    int64_t min_last = INT64_MAX;
    for (int gi = 0; gi < groups; gi++) {
        const Group gs = group(gi);
        for (int r = 0; r < rows_p; r++) {
            std::memset(gs.O + static_cast<size_t>(r) * Dp, 0, sizeof(float) * Dp);
            gs.m[r] = NEG_INF;
            gs.l[r] = 0;
            gs.alpha[r] = 1;  // the direct path never runs the softmax of the padding rows: their O stays zero
            float *qr = gs.Q + static_cast<size_t>(r) * Dp;
            if (r >= rows) {
                std::memset(qr, 0, sizeof(float) * Dp);
                continue;
            }
            const float *src = qb + (q0 + r / R) * p.q_row_stride + head_of(gs.g, r % R) * p.q_head_stride;
            // The logit scale (and the qk_norm normalisation of q) is folded into the packed query.
            const float f = p.scale * (p.qk_norm ? inv_norm(src, D) : 1.0f);
            for (int d = 0; d < D; d++) qr[d] = src[d] * f;
            for (int d = D; d < Dp; d++) qr[d] = 0;
        }
    }
    for (int r = 0; r < rows_p; r++) {
        if (r >= rows) {
            active[r] = 0;
            last[r] = -1;
            continue;
        }
        const int i = q0 + r / R;
        int64_t lk = last_visible_key(p, b, i, key_length);
        if (lk > k1 - 1) lk = k1 - 1;  // this item's key range ends at k1
        bool on = (qm == nullptr || qm[i] != 0) && lk >= 0;
        active[r] = on ? 1.0f : 0.0f;
        last[r] = static_cast<float>(lk);
        if (on) {
            max_last = lk > max_last ? lk : max_last;
            min_last = lk < min_last ? lk : min_last;
        }
    }

    const int key_end = static_cast<int>(max_last + 1);  // keys past every row's last are skipped
    RowPrefetcher pf{kb0, vb0, p.k_row_stride, p.v_row_stride, p.k_head_stride, p.v_head_stride, groups, (D + 15) / 16,
                     key_end};
    pf.row = k0;
    for (int kt = k0; kt < key_end; kt += TK) {
        const int kn = min_int(TK, key_end - kt);
        // Columns computed: the tile's keys rounded up to a register block, so that a short last tile (or
        // a sequence of a few tokens) costs its own width, not TK's.
        const int tw = round_up(kn, NV * W);
        // Key visibility inside the tile: the key mask (and the tile end) as an additive bias.
        int visible = 0;
        for (int c = 0; c < tw; c++) {
            bool on = c < kn && (km == nullptr || km[kt + c] != 0);
            bias[c] = on ? 0.0f : NEG_INF;
            visible += on;
        }
        if (visible == 0) continue;  // a fully masked tile contributes nothing
        const bool causal_full = kt + kn - 1 <= min_last;  // every active row sees the whole tile
        const bool need_mask = visible != tw || !causal_full;

        // Which row blocks take part: any active row whose horizon reaches this tile (the same for every group).
        for (int r0 = 0; r0 < rows_p; r0 += MR) {
            bool any = false;
            for (int r = 0; r < MR; r++) any |= active[r0 + r] != 0 && last[r0 + r] >= kt;
            on_block[r0 / MR] = any;
        }

        if (direct) {
            if (!on_block[0]) continue;
            const int64_t ldk = p.k_row_stride, kh = p.k_head_stride;
            const int64_t ldv = p.v_row_stride, vh = p.v_head_stride;
            const float *const K = kb0 + static_cast<int64_t>(kt) * ldk;  // key kt of the item's first group
            const float *const Vs = vb0 + static_cast<int64_t>(kt) * ldv;
            // The tile's keys and values come from memory together, row by row: a decoding cache holds a key's k
            // and v side by side in one row, read in order that way; separate k and v arrays come as two streams,
            // which memory serves faster than one (pure reads here: 21 against 16 GB/s). The keys are copied into
            // L1 block by block; the values are summed where they are (the cursor brought them in with the keys)
            // unless their rows need padding to whole vectors, when the value tile holds a padded copy. (Copying
            // every value into the tile cost 10-13% of a batch-8 cross-attention call.)
            for (int c0 = 0; c0 < kn; c0 += kKeyBlock) {
                const int cn = min_int(kKeyBlock, kn - c0);
                for (int j = 0; j < cn; j++) {  // row by row: a row's k, then its v
                    pf.skip_to(kt + c0 + j + 1);
                    pf.limit = kt + c0 + j + kAheadRows;
                    pf.issue(kCopyLines);
                    copy_row(K + static_cast<int64_t>(c0 + j) * ldk, groups, kh, D, Dp, block + j * block_ld);
                    if (!v_in_place)  // values padded to whole vectors; else read where they are, prefetched
                        copy_row(Vs + static_cast<int64_t>(c0 + j) * ldv, groups, vh, D, Dp,
                                 value_tile + static_cast<size_t>(c0 + j) * block_ld);
                }
                for (int gi = 0; gi < groups; gi++) {
                    float *const Sg = S + static_cast<size_t>(gi) * rows_p * TK + c0;
                    direct_scores(group(gi).Q, Dp, rows, block + gi * Dp, block_ld, cn, D, Sg, pf);
                    if (p.qk_norm)
                        for (int j = 0; j < cn; j++) {
                            const float f = inv_norm(block + j * block_ld + gi * Dp, D);
                            for (int r = 0; r < rows; r++) Sg[r * TK + j] *= f;
                        }
                }
            }
            for (int gi = 0; gi < groups; gi++) {
                const Group gs = group(gi);
                float *const Sg = S + static_cast<size_t>(gi) * rows_p * TK;
                // Masks, then the online softmax per row: S becomes P = exp(S - m'), alpha = exp(m - m').
                for (int r = 0; r < rows; r++) {
                    float *sr = Sg + r * TK;
                    for (int c = kn; c < tw; c++) sr[c] = 0;  // the tile's padding to whole vectors (masked below)
                    if (need_mask) {
                        for (int c = 0; c < tw; c += W) store(sr + c, load(sr + c) + load(bias + c));
                        const int64_t lim = static_cast<int64_t>(last[r]) - kt;  // columns > lim are in the future
                        for (int c = lim < 0 ? 0 : static_cast<int>(lim + 1); c < tw; c++) sr[c] = NEG_INF;
                    }
                    gs.alpha[r] = softmax_step(sr, 0, tw, gs.m[r], gs.l[r]);
                }
            }
            // O = alpha O + P V, key block by key block like the scores; a tile's first block applies alpha.
            for (int c0 = 0; c0 < kn; c0 += kKeyBlock) {
                const int cn = min_int(kKeyBlock, kn - c0);
                const float *const Vblock = v_in_place ? Vs + static_cast<int64_t>(c0) * ldv
                                                       : value_tile + static_cast<size_t>(c0) * block_ld;
                const int64_t vld = v_in_place ? ldv : block_ld;  // row stride and group stride of Vblock
                const int64_t vgs = v_in_place ? vh : Dp;
                pf.limit = kt + kn + kAheadRows;
                for (int gi = 0; gi < groups; gi++) {
                    pf.issue(kValueLines);
                    const Group gs = group(gi);
                    const float *P = S + static_cast<size_t>(gi) * rows_p * TK + c0;
                    const float *a = c0 == 0 ? gs.alpha : ones;
                    if (rows <= kDirectRows) {  // a decoding step's rows alone, not the block's padding
                        pv_rows<kDirectRows, TK>(gs.O, Dp, P, Vblock + gi * vgs, vld, cn, a);
                    } else {
                        pv_rows<MR, TK>(gs.O, Dp, P, Vblock + gi * vgs, vld, cn, a);
                    }
                }
            }
            continue;
        }

        for (int gi = 0; gi < groups; gi++) {
            const Group gs = group(gi);
            float *const Q = gs.Q, *const O = gs.O, *const m = gs.m, *const l = gs.l, *const alpha = gs.alpha;
            const float *const kb = gs.kb, *const vb = gs.vb;
            // Pack the tile once for all R heads of the group: K transposed (optionally normalised), V padded
            // unless it can be read in place.
            const int64_t ldk = p.k_row_stride;
            pack_key_columns<TK>([&](int c) { return kb + static_cast<int64_t>(kt + c) * ldk; }, 0, tw, kn, D,
                                 p.qk_norm != 0, Kt);
            for (int c = 0; c < tw && !v_in_place; c++) {
                float *vr = V + static_cast<size_t>(c) * Dp;
                if (c < kn) {
                    const float *vs = vb + static_cast<int64_t>(kt + c) * p.v_row_stride;
                    for (int d = 0; d < D; d++) vr[d] = vs[d];
                    for (int d = D; d < Dp; d++) vr[d] = 0;
                } else {
                    for (int d = 0; d < Dp; d++) vr[d] = 0;
                }
            }
            const float *Vt = v_in_place ? vb + static_cast<int64_t>(kt) * p.v_row_stride : V;
            const int64_t ldv = v_in_place ? p.v_row_stride : Dp;

            // S = Q Kt for every row of the tile. Column blocks outer, row blocks inner: one D x (NV W) panel of
            // Kt stays in L1 while every row block uses it, instead of the whole Kt streaming through L1 once per
            // row block.
            for (int c0 = 0; c0 < tw; c0 += NV * W)
                for (int r0 = 0; r0 < rows_p; r0 += MR)
                    if (on_block[r0 / MR])
                        qk_block<NV, MR, TK>(Q + static_cast<size_t>(r0) * Dp, Dp, Kt, D, S + r0 * TK, c0);

            // Masks, then the online softmax per row: S becomes P = exp(S - m'), alpha = exp(m - m').
            for (int r = 0; r < rows_p; r++) {
                if (!on_block[r / MR]) continue;
                float *s = S + r * TK;
                if (need_mask) {
                    for (int c = 0; c < tw; c += W) store(s + c, load(s + c) + load(bias + c));
                    const int64_t lim = static_cast<int64_t>(last[r]) - kt;  // columns > lim are in the future
                    for (int c = lim < 0 ? 0 : static_cast<int>(lim + 1); c < tw; c++) s[c] = NEG_INF;
                }
                alpha[r] = softmax_step(s, 0, tw, m[r], l[r]);
            }

            // O = alpha O + P V. Output column blocks outer, row blocks inner: one kn x (NV W) panel of V stays
            // in L1 while every row block uses it.
            const int nvec = Dp / W;
            int d0 = 0;
            for (; d0 + NV * W <= Dp; d0 += NV * W)
                for (int r0 = 0; r0 < rows_p; r0 += MR)
                    if (on_block[r0 / MR])
                        pv_block<NV, MR, TK>(O + static_cast<size_t>(r0) * Dp, Dp, S + r0 * TK, Vt, ldv, kn,
                                             alpha + r0, d0);
            if (nvec % NV != 0)
                for (int r0 = 0; r0 < rows_p; r0 += MR)
                    if (on_block[r0 / MR])
                        pv_rows<MR, TK, NV - 1>(O + static_cast<size_t>(r0) * Dp, Dp, S + r0 * TK, Vt, ldv, kn,
                                                alpha + r0, d0);
        }
    }

    // A finite row has m < +inf and a finite l; an overflowed logit (+inf, or NaN from inf - inf in a dot
    // product of finite vectors) leaves m = +inf or l NaN. A row that sees a key (its last visible key at or past
    // the element's first unmasked one) whose m stayed -inf had every logit overflow downwards; for a key chunk
    // (partial) that is decided after the merge. Checked once per row, off the key loop.
    const int64_t first_key = partial == nullptr ? first_unmasked_key(p, b, key_end) : key_end;
    int64_t overflow = -1;
    for (int gi = 0; gi < groups; gi++) {
        const Group gs = group(gi);
        for (int r = 0; r < rows; r++) {
            const float big = 3.40282347e38f;
            const bool all_neg_inf = gs.m[r] == NEG_INF && last[r] >= static_cast<float>(first_key);
            if (active[r] != 0 && (!(gs.m[r] <= big && gs.l[r] <= big) || all_neg_inf)) {
                const int64_t i = q0 + r / R;
                overflow = overflow < 0 || i < overflow ? i : overflow;
            }
        }
        if (partial != nullptr) {  // the state of this key chunk, merged by the caller; group gi's rows after gi * rows
            for (int r = 0; r < rows; r++) {
                float *dst = partial + (static_cast<size_t>(gi) * rows + r) * (D + 2);
                const float *src = gs.O + static_cast<size_t>(r) * Dp;
                const bool on = active[r] != 0;
                for (int d = 0; d < D; d++) dst[d] = on ? src[d] : 0.0f;
                dst[D] = on ? gs.m[r] : NEG_INF;
                dst[D + 1] = on ? gs.l[r] : 0.0f;
            }
            continue;
        }
        // o = O / l; rows with a masked query or no visible key are zero.
        for (int r = 0; r < rows; r++) {
            const int i = q0 + r / R;
            float *dst = ob + i * p.o_row_stride + head_of(gs.g, r % R) * p.o_head_stride;
            const float *src = gs.O + static_cast<size_t>(r) * Dp;
            if (active[r] != 0 && gs.l[r] > 0) {
                const float inv = 1.0f / gs.l[r];
                for (int d = 0; d < D; d++) dst[d] = src[d] * inv;
            } else {
                for (int d = 0; d < D; d++) dst[d] = 0;
            }
        }
    }
    return overflow;
}

}  // namespace mmca::cpu
