package dev.mmca.backend.java;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Interleaved multi-modal causal attention (SPEC "Interleaved MMCA") on the Vector API: the contract and the groups
 * of {@link InterleavedAttention} ({@link InterleavedWindows}), the layout and the register-blocked products of
 * {@link VectorAttention}. Work items are (batch element, kv head, query tile); an item stacks every query head of
 * its kv head as rows, query-major (row {@code r * R + h} is query {@code i0 + r} of the h-th head reading the kv
 * head), in the vector lanes: each block of {@link VectorAttention#BLOCK} rows keeps {@code m}, {@code l} and the
 * unnormalised output of both its groups, T and I, as vectors. Per key tile ({@link #KEY_TILE} key positions, its
 * text keys first, then its image keys, so that a row's T group is the columns {@code [0, tTo)} and its I group one
 * run {@code [iFrom, iTo)} of the image columns; packed once per call by {@link KeyPanels#packInterleaved}) that
 * holds keys some row of the item needs, and per block
 * <pre>
 *   s[j][rows] = (scale q) . k_j        once, for j in [0, max tTo) and [min iFrom, max iTo) only
 *   T step over [0, max tTo):           s = -inf outside a row's [0, tTo) (only when the rows' ranges differ);
 *                                       online softmax into (m_T, l_T);  O_T = c_T O_T + P V
 *   I step over [min iFrom, max iTo):   the same with the rows' [iFrom, iTo), into (m_I, l_I, O_I)
 * </pre>
 * so every score is computed and exponentiated once, and a block whose rows share a group's columns (most blocks
 * of most tiles) runs that group's step without masks. Under rule self an image query scores only its text keys;
 * its own value {@code v_p} is added at the end. Finally {@code out = O_T / l_T + O_I / l_I (+ v_p)} (a group that
 * saw no key adds nothing); rows of padding tokens are zero. Summation orders are fixed by the shapes and the
 * modality, never by the thread: a score is one chain of fused multiply-adds over {@code e = 0 .. d-1}; a group's
 * {@code l} and {@code O} add its keys in column order, tile by tile.
 */
final class VectorInterleavedAttention {
    private static final VectorSpecies<Float> S = VectorKernels.SPECIES;
    private static final int L = S.length();
    private static final int BLOCK = VectorAttention.BLOCK;
    /** Keys per tile: the tile's keys and values (2 x 64 x d floats) stay in L1 while every block uses them. */
    static final int KEY_TILE = VectorAttention.KEY_TILE;
    static final int QUERY_TILE = InterleavedAttention.QUERY_TILE;

    private VectorInterleavedAttention() {
    }

    /** See {@link JavaKernels#interleaved}: returns -1 or the first query row whose scores overflowed float32. */
    static long run(AttentionArgs a, byte[] modality, int modalityStride, boolean block) {
        int queryTiles = (a.queries + QUERY_TILE - 1) / QUERY_TILE;
        int items = a.batch * a.kvHeads * queryTiles;
        KeyPanels panels = KeyPanels.packInterleaved(a, KEY_TILE, modality, modalityStride);
        FirstIndex bad = new FirstIndex();
        Parallel.forEach(items, t -> {
            Item item = new Item(a, modality, modalityStride, block, t, queryTiles);
            item.accumulate(panels);
            bad.report(item.firstOverflow());
            item.write();
        });
        return bad.get();
    }

    /** One work item: its rows' windows, transposed queries and the two softmax states of every row. */
    private static final class Item {
        final AttentionArgs a;
        final int b;
        final int g;
        final int i0;
        /** Queries of the item, and query heads per kv head: row {@code r * groupSize + h}. */
        final int queries;
        final int groupSize;
        final int lanes;
        /** Rows rounded up to whole blocks; the padding rows are inactive. */
        final int padded;
        final int[] qHeads;
        final InterleavedWindows w;
        /** {@code (scale q)} in the blocked transpose of {@link VectorAttention#loadQuery}; zero for inactive rows. */
        final float[] qT;
        final float[] mT;
        final float[] lT;
        final float[] accT;
        final float[] mI;
        final float[] lI;
        final float[] accI;

        Item(AttentionArgs a, byte[] modality, int modalityStride, boolean block, int t, int queryTiles) {
            this.a = a;
            int qt = t % queryTiles;
            this.g = (t / queryTiles) % a.kvHeads;
            this.b = t / (queryTiles * a.kvHeads);
            this.i0 = qt * QUERY_TILE;
            this.queries = Math.min(a.queries, (qt + 1) * QUERY_TILE) - i0;
            this.groupSize = a.heads / a.kvHeads;
            this.lanes = groupSize * queries;
            this.padded = (lanes + BLOCK - 1) / BLOCK * BLOCK;
            final int d = a.dimHead;
            qHeads = a.queryHeads(g);
            w = new InterleavedWindows(a, modality, modalityStride, block, b, i0, queries);
            qT = new float[d * padded];
            float[] row = new float[d];
            for (int r = 0; r < queries; r++) {
                if (!w.active[r]) {
                    continue;
                }
                for (int h = 0; h < groupSize; h++) {
                    VectorAttention.loadQuery(a, b, i0 + r, qHeads[h], row, qT, r * groupSize + h);
                }
            }
            mT = new float[padded];
            lT = new float[padded];
            accT = new float[d * padded];
            mI = new float[padded];
            lI = new float[padded];
            accI = new float[d * padded];
            Arrays.fill(mT, Float.NEGATIVE_INFINITY);
            Arrays.fill(mI, Float.NEGATIVE_INFINITY);
        }

        /** Streams the key tiles that hold the windows' keys through both states of every block of rows. */
        void accumulate(KeyPanels panels) {
            final int d = a.dimHead;
            int[] columns = panels.keys[b];
            int[] tileStart = panels.tileStart[b];
            int[] tileText = panels.tileText[b];
            KeyPanels.Tile panel = panels.new Tile(a, b, g);
            float[] s = new float[KEY_TILE * BLOCK];
            float[] work = new float[4 * BLOCK];
            // per query: its groups' columns in the current tile; per row of a block: the same, as floats
            int[] textTo = new int[queries];
            int[] imageFrom = new int[queries];
            int[] imageTo = new int[queries];
            float[] zeros = new float[BLOCK];
            float[] tTo = new float[BLOCK];
            float[] iFrom = new float[BLOCK];
            float[] iTo = new float[BLOCK];
            InterleavedWindows.KeyTiles tile = w.new KeyTiles(KEY_TILE);
            for (int t = w.keyFrom / KEY_TILE; t + 1 < tileStart.length && t * KEY_TILE < w.keyEnd; t++) {
                tile.load(columns, tileStart[t], tileText[t], tileStart[t + 1] - tileStart[t]);
                if (!tile.needed()) {
                    continue;
                }
                panel.load(t);
                for (int r = 0; r < queries; r++) {
                    if (!w.active[r]) {
                        textTo[r] = imageFrom[r] = imageTo[r] = 0;
                    } else if (w.sameAsPrevious(r)) {
                        textTo[r] = textTo[r - 1];
                        imageFrom[r] = imageFrom[r - 1];
                        imageTo[r] = imageTo[r - 1];
                    } else {
                        textTo[r] = tile.textTo(r);
                        imageFrom[r] = tile.imageFrom(r);
                        imageTo[r] = tile.imageTo(r);
                    }
                }
                for (int lb = 0; lb < lanes; lb += BLOCK) {
                    // the columns of each group that some row of the block needs, and whether all rows need them
                    int tHi = 0;
                    int tLo = Integer.MAX_VALUE;
                    int iLo = Integer.MAX_VALUE;
                    int iHi = 0;
                    int iFromMax = 0;
                    int iToMin = Integer.MAX_VALUE;
                    for (int lane = 0; lane < BLOCK; lane++) {
                        int r = (lb + lane) / groupSize;
                        boolean on = lb + lane < lanes && w.active[r];
                        int tt = on ? textTo[r] : 0;
                        int f = on ? imageFrom[r] : 0;
                        int e = on ? imageTo[r] : 0;
                        tTo[lane] = tt;
                        iFrom[lane] = f;
                        iTo[lane] = e;
                        if (!on) {
                            continue;
                        }
                        tHi = Math.max(tHi, tt);
                        tLo = Math.min(tLo, tt);
                        if (f < e) {
                            iLo = Math.min(iLo, f);
                            iHi = Math.max(iHi, e);
                        }
                        iFromMax = Math.max(iFromMax, f);
                        iToMin = Math.min(iToMin, e);
                    }
                    if (tHi > 0) {
                        VectorAttention.scores(qT, lb * d, panel.k, panel.at, tile.width, d, 0, tHi, s);
                        if (tLo < tHi) {
                            VectorAttention.hide(s, 0, tHi, zeros, tTo);
                        }
                        VectorAttention.softmax(s, 0, tHi, mT, lT, lb, work);
                        VectorAttention.values(accT, lb, padded, s, panel.v, panel.at, tile.width, d, 0, tHi, work);
                    }
                    if (iLo < iHi) {
                        VectorAttention.scores(qT, lb * d, panel.k, panel.at, tile.width, d, iLo, iHi, s);
                        if (iFromMax > iLo || iToMin < iHi) {
                            VectorAttention.hide(s, iLo, iHi, iFrom, iTo);
                        }
                        VectorAttention.softmax(s, iLo, iHi, mI, lI, lb, work);
                        VectorAttention.values(accI, lb, padded, s, panel.v, panel.at, tile.width, d, iLo, iHi, work);
                    }
                }
            }
        }

        /**
         * {@code b * queries + i} of the first active query with a group whose scores overflowed, or -1. An overflowed
         * score leaves m = +inf, or (NaN scores) l NaN; a group whose every score is -inf keeps m = -inf, as one that
         * saw no key does, and the windows tell the two apart ({@link FusedAttention#overflowed}).
         */
        long firstOverflow() {
            for (int r = 0; r < queries; r++) {
                if (!w.active[r]) {
                    continue;
                }
                for (int lane = r * groupSize; lane < (r + 1) * groupSize; lane++) {
                    if (FusedAttention.overflowed(w.seesText[r], mT[lane], lT[lane])
                            || FusedAttention.overflowed(w.seesImage[r], mI[lane], lI[lane])) {
                        return (long) b * a.queries + i0 + r;
                    }
                }
            }
            return -1;
        }

        /**
         * out = O_T / l_T + O_I / l_I (+ v_p under rule self) per row: the two groups summed lane-wise, the rows
         * written by {@link VectorTransposedRows}, then the own value added; rows of padding tokens are zero. A group
         * that saw no key (l = 0) has O = 0, so its factor 0 adds exactly zero.
         */
        void write() {
            final int d = a.dimHead;
            float[] invT = new float[padded];
            float[] invI = new float[padded];
            int[] dst = new int[padded];
            Arrays.fill(dst, -1);
            for (int r = 0; r < queries; r++) {
                for (int h = 0; h < groupSize; h++) {
                    int lane = r * groupSize + h;
                    int at = a.oOffset + b * a.oBatchStride + (i0 + r) * a.oRowStride + qHeads[h] * d;
                    if (!w.active[r]) {
                        Arrays.fill(a.o, at, at + d, 0f);
                        continue;
                    }
                    dst[lane] = at;
                    invT[lane] = lT[lane] == 0f ? 0f : 1f / lT[lane];
                    invI[lane] = lI[lane] == 0f ? 0f : 1f / lI[lane];
                }
            }
            // O_T / l_T + O_I / l_I in place of O_T, lane-wise; then rows out with factor 1 (exact)
            for (int lb = 0; lb < padded; lb += L) {
                FloatVector sT = FloatVector.fromArray(S, invT, lb);
                FloatVector sI = FloatVector.fromArray(S, invI, lb);
                for (int at = lb; at < d * padded; at += padded) {
                    FloatVector.fromArray(S, accT, at).mul(sT).add(FloatVector.fromArray(S, accI, at).mul(sI))
                            .intoArray(accT, at);
                }
            }
            Arrays.fill(invT, 1f);
            VectorTransposedRows.write(accT, invT, padded, padded, d, a.o, dst);
            for (int r = 0; r < queries; r++) {
                int own = w.active[r] ? w.ownValue(a, b, g, r) : -1;
                if (own < 0) {
                    continue;
                }
                for (int h = 0; h < groupSize; h++) {
                    int at = dst[r * groupSize + h];
                    for (int e = 0; e < d; e++) {
                        a.o[at + e] += a.v[own + e];
                    }
                }
            }
        }
    }
}
