// Interleaved multi-modal causal attention (SPEC "Interleaved MMCA"), one (batch, kv group, query tile) at a
// time, fused: one pass over the key tiles, the scores of a tile computed once, and two online-softmax states per
// query row, one for its text group T and one for its image group I.
//
// Compiled once per instruction set, like attention_kernel.cpp (MMCA_ISA_SUFFIX, MMCA_VEC_WIDTH,
// MMCA_VEC_CHUNK and the matching -m flags); only the entry point has external linkage.
//
// The maths, per query row at key position p of modality t(p) (t = modality of a key):
//   T, I: t(p) = text              T = {text j <= p},  I = {image j <= p}
//         t(p) = image, rule self  T = {text j <= p},  I = {p}
//         t(p) = image, rule block T = {},            I = {image j, no text key between j and p}
// Each group is the keys of one modality inside one window of positions, [0, tHi] for T and [iLo, iHi] for I,
// which is what a row carries (a tile lays its text keys out before its image keys, so each group is one run of
// columns); under rule self the image group {p} is a softmax over one key, weight 1, so its
// part is v_p itself and is added at the end without a score. For each key tile of TK keys, with
// s_j = scale * q . k_j computed once:
//   for G in {T, I}, over the tile's keys of G:  m_G' = max(m_G, max_j s_j);  alpha = exp(m_G - m_G');
//     l_G = alpha l_G + sum_j exp(s_j - m_G');  O_G = alpha O_G + sum_j exp(s_j - m_G') v_j
//   finally o = O_T / l_T + O_I / l_I (+ v_p under rule self)   (a group that saw no key adds zero; padding rows
//   are zero).
#include <cstdint>
#include <cstring>

#include "interleaved_kernel.h"
#include "kernel_vector.h"

#define MMCA_CAT2(a, b) a##b
#define MMCA_CAT(a, b) MMCA_CAT2(a, b)
#define MMCA_ENTRY MMCA_CAT(interleaved_tile_, MMCA_ISA_SUFFIX)

namespace mmca::cpu {
namespace {

using namespace vec;

constexpr int MR = MMCA_ROW_BLOCK;  // query rows per register block (as the plain attention kernel)
constexpr int TK = 64;  // keys per tile
constexpr uint8_t TEXT = 1;
constexpr uint8_t IMAGE = 2;

// Integers kept in the float scratch, bit for bit (positions go past 2^24, where floats stop being exact).
inline void put_int(float *slot, int32_t v) { std::memcpy(slot, &v, sizeof v); }
inline int32_t get_int(const float *slot) {
    int32_t v;
    std::memcpy(&v, slot, sizeof v);
    return v;
}

inline int max_int(int a, int b) { return a > b ? a : b; }
inline int min_int(int a, int b) { return a < b ? a : b; }

// The online-softmax step of one row of a block over the columns [c_lo, c_hi) of its scores s (multiples of
// W), for both groups at once: T = columns [0, t_to), I = columns [i_from, i_to) (disjoint: a tile lays its text
// keys out before its image keys). s becomes the weights in place, exp(s_c - m_T') on T, exp(s_c - m_I') on I and
// zero on every other column, so one exp per column serves whichever group holds it; alpha_t and alpha_i are the
// factors of the row's earlier O_T and O_I, and m, l of both groups are updated.
inline void two_group_step(float *s, int c_lo, int c_hi, int t_to, int i_from, int i_to, float &mT, float &lT,
                           float &mI, float &lI, float &alpha_t, float &alpha_i) {
    // Most rows of most tiles have one group over every column of the block: the step without masks.
    if (t_to >= c_hi && i_from >= i_to) {
        alpha_t = softmax_step(s, c_lo, c_hi, mT, lT);
        alpha_i = 1.0f;
        return;
    }
    if (t_to <= c_lo && i_from <= c_lo && i_to >= c_hi) {
        alpha_t = 1.0f;
        alpha_i = softmax_step(s, c_lo, c_hi, mI, lI);
        return;
    }
    vi lane;
    for (int k = 0; k < W; k++) lane[k] = k;
    vf mxT = splat(NEG_INF), mxI = mxT;
    for (int c = c_lo; c < c_hi; c += W) {
        const vi col = lane + c;
        const vf x = load(s + c);
        const vi inT = col < t_to;
        const vi inI = (col >= i_from) & (col < i_to);
        mxT = inT ? vmax(mxT, x) : mxT;
        mxI = inI ? vmax(mxI, x) : mxI;
    }
    const float tT = hmax(mxT), tI = hmax(mxI);
    const float nT = tT > mT ? tT : mT, nI = tI > mI ? tI : mI;
    // A group this tile does not touch, or whose scores are all -inf (a product overflowing downwards), gives
    // no weight here and keeps its state.
    if (nT == NEG_INF || tT == NEG_INF) t_to = 0;
    if (nI == NEG_INF || tI == NEG_INF) i_to = i_from;
    alpha_t = t_to > 0 ? sexp(mT - nT) : 1.0f;  // exp(-inf) = 0 on the group's first tile
    alpha_i = i_from < i_to ? sexp(mI - nI) : 1.0f;
    const vf vT = splat(t_to > 0 ? nT : 0.0f), vI = splat(i_from < i_to ? nI : 0.0f);
    vf sT = vf{}, sI = vf{};
    for (int c = c_lo; c < c_hi; c += W) {
        const vi col = lane + c;
        const vi inT = col < t_to;
        const vi inI = (col >= i_from) & (col < i_to);
        const vf e = vexp(load(s + c) - (inT ? vT : vI));
        const vf eT = inT ? e : vf{};
        const vf eI = inI ? e : vf{};
        sT += eT;
        sI += eI;
        store(s + c, eT + eI);
    }
    if (t_to > 0) {
        lT = lT * alpha_t + hsum(sT);
        mT = nT;
    }
    if (i_from < i_to) {
        lI = lI * alpha_i + hsum(sI);
        mI = nI;
    }
}

// The number of columns in [from, to) of col (key indices, ascending) whose key is at most x, plus from.
inline int upper_bound(const float *col, int from, int to, int64_t x) {
    while (from < to) {
        const int mid = (from + to) / 2;
        if (get_int(col + mid) <= x) {
            from = mid + 1;
        } else {
            to = mid;
        }
    }
    return from;
}

// A group's final state is no overflow: finite, or m = -inf in a group that holds no key (one that holds keys and
// keeps m = -inf had every logit overflow downwards).
inline bool finite_state(float m, float l, bool holds_keys) {
    const float big = 3.40282347e38f;
    return m == NEG_INF ? !holds_keys : (m <= big && l <= big);
}

}  // namespace

int64_t MMCA_ENTRY(const mmca_interleaved_params &ip, int b, int g, int q0, int q1) {
    static_assert(TK % (W * NV) == 0, "a key tile must be a whole number of register block columns");
    const mmca_attention_params &p = ip.attention;
    const int H = p.heads;
    const int G = p.kv_heads;
    const int R = H / G;  // query heads per kv head, stacked as rows of one block
    const int D = p.dim_head;
    const int Dp = round_up(D, W);
    const int M = p.keys;
    const int64_t offset = static_cast<int64_t>(p.keys) - p.queries;
    const int rows = (q1 - q0) * R;
    const int rows_p = round_up(rows, MR);
    const float *qb = static_cast<const float *>(p.q) + b * p.q_batch_stride;
    const float *kb = static_cast<const float *>(p.k) + b * p.k_batch_stride + g * p.k_head_stride;
    const float *vb = static_cast<const float *>(p.v) + b * p.v_batch_stride + g * p.v_head_stride;
    float *ob = static_cast<float *>(p.o) + b * p.o_batch_stride;
    const uint8_t *mod = ip.modality + b * ip.modality_batch_stride;
    const bool block = ip.image_rule == MMCA_IMAGE_RULE_BLOCK;
    int key_length = M;
    if (p.key_lengths != nullptr) {
        const int32_t n = p.key_lengths[b];
        key_length = n < 0 ? 0 : (n > M ? M : n);
    }
    const int32_t *positions = p.query_positions ? p.query_positions + b * p.query_positions_batch_stride : nullptr;

    // Scratch (floats): Q, OT, OI [rows_p][Dp]; mT, lT, mI, lI, tHi, iLo, iHi, self, active, groups [rows_p];
    // Kt [D][TK]; V [TK][Dp]; S [MR][TK]; col [TK].
    const size_t need = 3 * static_cast<size_t>(rows_p) * Dp + 10 * static_cast<size_t>(rows_p)
                        + static_cast<size_t>(D) * TK + static_cast<size_t>(TK) * Dp + MR * TK + TK;
    float *Q = thread_scratch(need);
    float *OT = Q + static_cast<size_t>(rows_p) * Dp;
    float *OI = OT + static_cast<size_t>(rows_p) * Dp;
    float *mT = OI + static_cast<size_t>(rows_p) * Dp;
    float *lT = mT + rows_p;
    float *mI = lT + rows_p;
    float *lI = mI + rows_p;
    float *tHi = lI + rows_p;    // ints: last position of T (-1: empty)
    float *iLo = tHi + rows_p;   // ints: positions [iLo, iHi] of I (iHi < iLo: empty)
    float *iHi = iLo + rows_p;
    float *self = iHi + rows_p;  // ints: rule self, an image row's own position (its value is added), else -1
    float *active = self + rows_p;
    float *held = active + rows_p;  // ints: bit 1, the row's T holds a key; bit 2, its scored I holds one
    float *Kt = held + rows_p;
    float *V = Kt + static_cast<size_t>(D) * TK;
    float *S = V + static_cast<size_t>(TK) * Dp;
    float *col = S + MR * TK;  // ints: the key of each column of a tile

    // Rows are query-major: row r is query q0 + r / R of the r % R-th head of group g.
    auto head_of = [&](int hr) { return p.head_mapping == MMCA_HEAD_MAPPING_MODULO ? hr * G + g : g * R + hr; };
    int key_from = M;  // the keys of every row's windows lie in [key_from, key_end)
    int key_end = 0;
    int run_lo = 0, run_hi = -1;  // the last image run found: consecutive rows of one image share it
    // The element's first text and first image key: a group of the keys of one modality in [0, x] holds one iff
    // x is at or past it.
    int first_text = key_length, first_image = key_length;
    for (int j = 0; j < key_length && (first_text == key_length || first_image == key_length); j++) {
        if (mod[j] == TEXT && first_text == key_length) first_text = j;
        if (mod[j] == IMAGE && first_image == key_length) first_image = j;
    }
    for (int r = 0; r < rows_p; r++) {
        float *qr = Q + static_cast<size_t>(r) * Dp;
        std::memset(OT + static_cast<size_t>(r) * Dp, 0, sizeof(float) * Dp);
        std::memset(OI + static_cast<size_t>(r) * Dp, 0, sizeof(float) * Dp);
        mT[r] = mI[r] = NEG_INF;
        lT[r] = lI[r] = 0;
        int th = -1, lo = 0, hi = -1, own = -1;
        uint8_t kind = 0;
        int pos = -1;
        if (r < rows) {
            const int i = q0 + r / R;
            const int64_t p64 = positions != nullptr ? positions[i] : i + offset;
            if (p64 >= 0 && p64 < key_length) {
                pos = static_cast<int>(p64);
                kind = mod[pos];
            }
        }
        if (kind == TEXT) {
            th = pos;
            hi = pos;
        } else if (kind == IMAGE && !block) {
            th = pos;
            own = pos;
        } else if (kind == IMAGE) {
            if (!(run_lo <= pos && pos <= run_hi)) {
                run_lo = run_hi = pos;
                while (run_lo > 0 && mod[run_lo - 1] != TEXT) run_lo--;
                while (run_hi + 1 < key_length && mod[run_hi + 1] != TEXT) run_hi++;
            }
            lo = run_lo;
            hi = run_hi;
        }
        put_int(tHi + r, th);
        put_int(iLo + r, lo);
        put_int(iHi + r, hi);
        put_int(self + r, own);
        // T is the text keys of [0, th]; I the image keys of [0, pos] (a text row) or pos's own run (rule block)
        const bool i_held = kind == TEXT ? pos >= first_image : kind == IMAGE && block;
        put_int(held + r, (th >= first_text ? 1 : 0) | (i_held ? 2 : 0));
        active[r] = kind != 0 ? 1.0f : 0.0f;
        if (kind == 0) {
            std::memset(qr, 0, sizeof(float) * Dp);
            continue;
        }
        key_from = min_int(key_from, th >= 0 ? 0 : lo);
        key_end = max_int(key_end, max_int(th, hi) + 1);
        const int i = q0 + r / R;
        const float *src = qb + i * p.q_row_stride + head_of(r % R) * p.q_head_stride;
        // The logit scale (and the qk_norm normalisation of q) is folded into the packed query.
        const float f = p.scale * (p.qk_norm ? inv_norm(src, D) : 1.0f);
        for (int d = 0; d < D; d++) qr[d] = src[d] * f;
        for (int d = D; d < Dp; d++) qr[d] = 0;
    }

    // The union of the rows' windows, for skipping tiles: the last text horizon, the image positions [u_lo, u_hi].
    int t_max = -1, u_lo = M, u_hi = -1;
    for (int r = 0; r < rows; r++) {
        if (active[r] == 0) continue;
        t_max = max_int(t_max, get_int(tHi + r));
        if (get_int(iLo + r) <= get_int(iHi + r)) {
            u_lo = min_int(u_lo, get_int(iLo + r));
            u_hi = max_int(u_hi, get_int(iHi + r));
        }
    }

    for (int kt = key_from; kt < key_end; kt += TK) {
        const int kn = min_int(TK, key_end - kt);
        // The tile's columns by modality: its text keys first, then its image keys, each in key order (col[c] is
        // the key of column c). Every row's text group is then the first columns up to its horizon and its image
        // group one run of the image columns, so no column outside a group is scored or accumulated.
        int nt = 0;
        for (int c = 0; c < kn; c++) nt += mod[kt + c] == TEXT;
        int width = nt;
        bool in_order = true;  // column c holds key kt + c (no padding, no text key after an image key)
        for (int c = 0, t = 0; c < kn; c++) {
            const uint8_t m = mod[kt + c];
            if (m == TEXT) {
                in_order &= t == c;
                put_int(col + t++, kt + c);
            }
            if (m == IMAGE) put_int(col + width++, kt + c);
        }
        in_order &= width == kn;
        if (width == 0) continue;  // only padding
        // Each row's groups as columns: T = [0, t_cols(row)), I = [i_first(row), i_end(row)).
        auto t_cols = [&](int row) { return upper_bound(col, 0, nt, get_int(tHi + row)); };
        auto i_first = [&](int row) { return upper_bound(col, nt, width, get_int(iLo + row) - 1); };
        auto i_end = [&](int row) { return upper_bound(col, nt, width, get_int(iHi + row)); };
        // The columns any row needs, [n_lo, n_hi): the text columns up to the last text horizon, the image columns
        // inside the union of the image windows. Under rule self an image query's text window covers every key
        // before it, but only its text keys are scored (its own value is added at the end), so a tile that only
        // image queries read has its text columns packed and scored, not its image columns; a tile no row needs
        // is not packed at all.
        const int t_need = t_max >= 0 ? upper_bound(col, 0, nt, t_max) : 0;
        const int i_need_lo = u_lo <= u_hi ? upper_bound(col, nt, width, u_lo - 1) : nt;
        const int i_need_hi = u_lo <= u_hi ? upper_bound(col, nt, width, u_hi) : nt;
        const int n_lo = t_need > 0 ? 0 : i_need_lo;
        const int n_hi = i_need_lo < i_need_hi ? i_need_hi : t_need;
        if (n_lo >= n_hi) continue;

        // Pack the needed columns once for all R heads of the group, in whole register blocks [p_lo, p_hi): K
        // transposed (optionally normalised), V padded. V is read in place when its columns are the keys in
        // order and its rows need no padding.
        const int p_lo = n_lo / (NV * W) * (NV * W);
        const int p_hi = round_up(n_hi, NV * W);
        const bool v_in_place = in_order && Dp == D;
        pack_key_columns<TK>([&](int c) { return kb + static_cast<int64_t>(get_int(col + c)) * p.k_row_stride; }, p_lo,
                             p_hi, width, D, p.qk_norm != 0, Kt);
        for (int c = p_lo; c < p_hi && c < width && !v_in_place; c++) {
            const float *vs = vb + static_cast<int64_t>(get_int(col + c)) * p.v_row_stride;
            float *vr = V + static_cast<size_t>(c) * Dp;
            for (int d = 0; d < D; d++) vr[d] = vs[d];
            for (int d = D; d < Dp; d++) vr[d] = 0;
        }
        const float *Vt = v_in_place ? vb + static_cast<int64_t>(kt) * p.v_row_stride : V;
        const int64_t ldv = v_in_place ? p.v_row_stride : Dp;

        for (int r0 = 0; r0 < rows_p; r0 += MR) {
            int t_to[MR], i_from[MR], i_to[MR];
            int t_hi = 0, i_lo = TK, i_hi = 0;  // the columns of each group that any row of the block needs
            for (int r = 0; r < MR; r++) {
                const int row = r0 + r;
                t_to[r] = i_from[r] = i_to[r] = 0;
                if (active[row] == 0) continue;
                if (r > 0 && active[row - 1] != 0 && get_int(tHi + row) == get_int(tHi + row - 1)
                    && get_int(iLo + row) == get_int(iLo + row - 1) && get_int(iHi + row) == get_int(iHi + row - 1)) {
                    // the next head of the same query, as a rule: the same windows
                    t_to[r] = t_to[r - 1];
                    i_from[r] = i_from[r - 1];
                    i_to[r] = i_to[r - 1];
                } else {
                    t_to[r] = t_cols(row);
                    i_from[r] = i_first(row);
                    i_to[r] = i_end(row);
                }
                t_hi = max_int(t_hi, t_to[r]);
                if (i_from[r] < i_to[r]) {
                    i_lo = min_int(i_lo, i_from[r]);
                    i_hi = max_int(i_hi, i_to[r]);
                }
            }
            const bool any_t = t_hi > 0, any_i = i_lo < i_hi;
            if (!any_t && !any_i) continue;
            // The scores once, for both groups, in the register block columns that hold needed columns
            // [c_lo, c_hi); the softmax runs over the same columns in whole vectors.
            const float *Qb = Q + static_cast<size_t>(r0) * Dp;
            const int c_lo = (any_t ? 0 : i_lo) / (NV * W) * (NV * W);
            const int c_hi = round_up(any_i ? i_hi : t_hi, NV * W);
            for (int c0 = c_lo; c0 < c_hi; c0 += NV * W) qk_block<NV, MR, TK>(Qb, Dp, Kt, D, S, c0);

            float alpha_t[MR], alpha_i[MR];
            for (int r = 0; r < MR; r++) {
                const int row = r0 + r;
                two_group_step(S + r * TK, c_lo, c_hi, t_to[r], i_from[r], i_to[r], mT[row], lT[row], mI[row],
                               lI[row], alpha_t[r], alpha_i[r]);
            }
            // O_G = alpha O_G + P_G V over the columns of G only: [0, t_hi) for T, [i_lo, i_hi) for I (the
            // weights of a row are zero on the columns of the block's range outside its own groups).
            if (any_t) pv_rows<MR, TK>(OT + static_cast<size_t>(r0) * Dp, Dp, S, Vt, ldv, t_hi, alpha_t);
            if (any_i) {
                pv_rows<MR, TK>(OI + static_cast<size_t>(r0) * Dp, Dp, S + i_lo, Vt + i_lo * ldv, ldv, i_hi - i_lo,
                                alpha_i);
            }
        }
    }

    // A finite state has m < +inf and a finite l; an overflowed logit (+inf, or NaN from inf - inf in a dot
    // product of finite vectors) leaves m = +inf or l NaN, and a group whose every logit overflowed downwards keeps
    // m = -inf although it holds keys. Checked once per row, off the key loop.
    int64_t overflow = -1;
    for (int r = 0; r < rows; r++) {
        const int32_t h = get_int(held + r);
        const bool finite = finite_state(mT[r], lT[r], (h & 1) != 0) && finite_state(mI[r], lI[r], (h & 2) != 0);
        if (active[r] != 0 && !finite) {
            const int64_t i = q0 + r / R;
            overflow = overflow < 0 || i < overflow ? i : overflow;
        }
    }

    // o = O_T / l_T + O_I / l_I (+ v_p under rule self); a group that saw no key adds nothing, padding rows are
    // zero.
    for (int r = 0; r < rows; r++) {
        const int i = q0 + r / R;
        float *dst = ob + i * p.o_row_stride + head_of(r % R) * p.o_head_stride;
        const float *t = OT + static_cast<size_t>(r) * Dp;
        const float *m = OI + static_cast<size_t>(r) * Dp;
        const bool on = active[r] != 0;
        const float inv_t = on && lT[r] > 0 ? 1.0f / lT[r] : 0.0f;
        const float inv_i = on && lI[r] > 0 ? 1.0f / lI[r] : 0.0f;
        // A group without keys has O = 0 (nothing was ever added to it), so its factor 0 adds exactly zero.
        const vf ft = splat(inv_t), fi = splat(inv_i);
        const int own = on ? get_int(self + r) : -1;
        const float *v_own = own >= 0 ? vb + static_cast<int64_t>(own) * p.v_row_stride : nullptr;
        const int Dv = D / W * W;
        for (int d = 0; d < Dv; d += W) {
            vf x = load(t + d) * ft + load(m + d) * fi;
            if (v_own != nullptr) x += load(v_own + d);
            store(dst + d, x);
        }
        for (int d = Dv; d < D; d++) dst[d] = t[d] * inv_t + m[d] * inv_i + (v_own != nullptr ? v_own[d] : 0.0f);
    }
    return overflow;
}

}  // namespace mmca::cpu
