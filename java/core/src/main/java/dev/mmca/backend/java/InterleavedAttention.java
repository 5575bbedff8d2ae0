package dev.mmca.backend.java;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Interleaved multi-modal causal attention in pure Java (SPEC "Interleaved MMCA"), fused: one pass over the key
 * tiles in which every query row keeps two online-softmax states, one for its text group T and one for its image
 * group I, and each score {@code s_j = scale * q . k_j} is computed once and goes to the group of its key:
 * <pre>
 *   for each group G in {T, I}, over the keys j of G in this tile:
 *     m_G' = max(m_G, max_j s_j);  c = exp(m_G - m_G')
 *     l_G  = c l_G + sum_j exp(s_j - m_G');   acc_G = c acc_G + sum_j exp(s_j - m_G') v_j
 *   out = acc_T / l_T + acc_I / l_I          (a group that saw no key adds zero)
 * </pre>
 * The groups of the query at key position {@code p} (t = the key's modality; keys past the element's length and
 * padding keys are never seen):
 * <ul>
 *   <li>text query: T = text keys {@code j <= p}, I = image keys {@code j <= p};</li>
 *   <li>image query, rule self: T = text keys {@code j <= p}, I = {@code {p}};</li>
 *   <li>image query, rule block: T empty, I = the image keys with no text key between them and {@code p}.</li>
 * </ul>
 * So each group is the keys of one modality inside one window of key positions ({@code [0, tHi]} for T,
 * {@code [iLo, iHi]} for I), which is what a row carries; a key tile lays its text keys out before its image keys,
 * so each group is one run of columns and nothing outside a group is scored. Under rule self the image group {@code {p}} is a softmax
 * over one key, weight 1: its part is {@code v_p} itself, added at the end without a score. Work items are (batch element, kv head, query tile)
 * as in {@link FusedAttention}; all query heads reading one kv head share each packed key tile, and each output
 * row is produced in an order fixed by the shapes and the modality, so results do not depend on the thread count.
 */
final class InterleavedAttention {
    static final int QUERY_TILE = 32;
    static final int KEY_TILE = 256;

    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND_SHIFTER = 12582912f;

    private InterleavedAttention() {
    }

    /**
     * Computes the attention of {@code a} (causal, without masks) with the key modality {@code modality[b *
     * modalityStride + j]} and the image rule ({@code block}: the image's run; else self). Returns -1, or
     * {@code b * queries + i} of the first query row whose scores overflowed float32.
     */
    static long run(AttentionArgs a, byte[] modality, int modalityStride, boolean block) {
        AtomicLong firstBad = new AtomicLong(-1);
        int queryTiles = (a.queries + QUERY_TILE - 1) / QUERY_TILE;
        int items = a.batch * a.kvHeads * queryTiles;
        Parallel.forEach(items, t -> {
            Tile tile = new Tile(a, modality, modalityStride, block, t, queryTiles);
            tile.accumulate();
            long row = tile.write();
            if (row >= 0) {
                firstBad.accumulateAndGet(row, (x, y) -> x < 0 ? y : Math.min(x, y));
            }
        });
        return firstBad.get();
    }

    /**
     * One work item: for batch element b and kv head g, every query head reading g over queries [i0, i1), stacked
     * head-major as lanes, each with its two windows and two softmax states.
     */
    private static final class Tile {
        final AttentionArgs a;
        final int b;
        final int g;
        final int i0;
        final int rows;
        final int lanes;
        final int[] qHeads;
        final float[][] q;
        /** The windows of the item's query rows (lane {@code hi * rows + r} is row r of its head). */
        final InterleavedWindows w;
        final float[] mT;
        final float[] lT;
        final float[][] accT;
        final float[] mI;
        final float[] lI;
        final float[][] accI;

        Tile(AttentionArgs a, byte[] mod, int modalityStride, boolean block, int t, int queryTiles) {
            this.a = a;
            int qt = t % queryTiles;
            this.g = (t / queryTiles) % a.kvHeads;
            this.b = t / (queryTiles * a.kvHeads);
            this.i0 = qt * QUERY_TILE;
            int i1 = Math.min(a.queries, (qt + 1) * QUERY_TILE);
            final int d = a.dimHead;
            final int groupSize = a.heads / a.kvHeads;
            this.rows = i1 - i0;
            this.lanes = groupSize * rows;
            qHeads = a.queryHeads(g);
            w = new InterleavedWindows(a, mod, modalityStride, block, b, i0, rows);
            q = new float[lanes][d];
            for (int hi = 0; hi < groupSize; hi++) {
                for (int r = 0; r < rows; r++) {
                    if (!w.active[r]) {
                        continue;
                    }
                    int lane = hi * rows + r;
                    int src = a.qOffset + b * a.qBatchStride + (i0 + r) * a.qRowStride + qHeads[hi] * d;
                    System.arraycopy(a.q, src, q[lane], 0, d);
                    if (a.qkNorm) {
                        FusedAttention.normalize(q[lane], 0, d);
                    }
                    // the logit scale is folded into the query once, as the other kernels do: s = (scale q) . k
                    float[] qr = q[lane];
                    for (int e = 0; e < d; e++) {
                        qr[e] *= a.scale;
                    }
                }
            }
            mT = new float[lanes];
            lT = new float[lanes];
            accT = new float[lanes][d];
            mI = new float[lanes];
            lI = new float[lanes];
            accI = new float[lanes][d];
            Arrays.fill(mT, Float.NEGATIVE_INFINITY);
            Arrays.fill(mI, Float.NEGATIVE_INFINITY);
        }

        /** Streams the key tiles of the windows' keys through both states of every active lane. */
        void accumulate() {
            final int d = a.dimHead;
            float[][] kt = new float[d][KEY_TILE];
            float[][] vt = new float[KEY_TILE][];
            float[] s = new float[KEY_TILE];
            float[] p = new float[KEY_TILE];
            float[] poly = new float[KEY_TILE];
            float[] pow2 = new float[KEY_TILE];
            InterleavedWindows.KeyTiles tile = w.new KeyTiles(KEY_TILE);
            while (tile.advance()) {
                if (!tile.needed()) {
                    continue;
                }
                packKeys(tile.keys, tile.width, kt, vt);
                for (int lane = 0; lane < lanes; lane++) {
                    int r = lane % rows;
                    if (!w.active[r]) {
                        continue;
                    }
                    int tTo = tile.textTo(r);
                    int iFrom = tile.imageFrom(r);
                    int iTo = tile.imageTo(r);
                    // each score once: the text columns [0, tTo) and the image columns [iFrom, iTo)
                    if (tTo > 0) {
                        scores(q[lane], kt, d, 0, tTo, s);
                        update(lane, s, 0, tTo, vt, p, poly, pow2, mT, lT, accT[lane]);
                    }
                    if (iFrom < iTo) {
                        scores(q[lane], kt, d, iFrom, iTo, s);
                        update(lane, s, iFrom, iTo, vt, p, poly, pow2, mI, lI, accI[lane]);
                    }
                }
            }
        }

        /** One online-softmax step of one group over its tile columns [c0, c1). */
        private void update(int lane, float[] s, int c0, int c1, float[][] vt, float[] p, float[] poly, float[] pow2,
                float[] m, float[] l, float[] acc) {
            float tileMax = Float.NEGATIVE_INFINITY;
            for (int c = c0; c < c1; c++) {
                float x = s[c];
                p[c] = x;
                tileMax = Math.max(tileMax, x);
            }
            if (tileMax == Float.NEGATIVE_INFINITY) {
                return;  // every score -inf (a product overflowing downwards): no weight (as in the native kernels)
            }
            float mOld = m[lane];
            float mNew = Math.max(mOld, tileMax);
            float correction = mOld == Float.NEGATIVE_INFINITY ? 0f : FastExp.exp(mOld - mNew);
            if (correction != 1f) {
                for (int e = 0; e < acc.length; e++) {
                    acc[e] *= correction;
                }
            }
            float sum = weights(p, c0, c1, mNew, poly, pow2);
            InterleavedAttention.accumulate(acc, p, vt, acc.length, c0, c1);
            l[lane] = l[lane] * correction + sum;
            m[lane] = mNew;
        }

        /**
         * out = acc_T / l_T + acc_I / l_I (+ v_p under rule self) per row (a group with l = 0 adds nothing); inactive
         * rows are zero. Returns
         * -1, or {@code b * queries + i} of the first row with a group whose scores overflowed (a state that is not
         * finite, or m = -inf in a group that holds a key: {@link FusedAttention#overflowed}).
         */
        long write() {
            final int d = a.dimHead;
            long bad = -1;
            for (int hi = 0; hi < qHeads.length; hi++) {
                for (int r = 0; r < rows; r++) {
                    int lane = hi * rows + r;
                    if (w.active[r] && (FusedAttention.overflowed(w.seesText[r], mT[lane], lT[lane])
                            || FusedAttention.overflowed(w.seesImage[r], mI[lane], lI[lane]))) {
                        long row = (long) b * a.queries + i0 + r;
                        bad = bad < 0 ? row : Math.min(bad, row);
                    }
                    int dst = a.oOffset + b * a.oBatchStride + (i0 + r) * a.oRowStride + qHeads[hi] * d;
                    Arrays.fill(a.o, dst, dst + d, 0f);
                    if (!w.active[r]) {
                        continue;
                    }
                    add(a.o, dst, accT[lane], lT[lane], d);
                    add(a.o, dst, accI[lane], lI[lane], d);
                    w.addOwnValue(a, b, g, r, dst);
                }
            }
            return bad;
        }

        private static void add(float[] o, int dst, float[] acc, float l, int d) {
            if (l == 0f) {
                return;  // an empty group contributes zero
            }
            float inv = 1f / l;
            for (int e = 0; e < d; e++) {
                o[dst + e] += acc[e] * inv;
            }
        }

        /** Keys of kv head g transposed into {@code kt [d][KEY_TILE]} (normalised with qk-norm), values into vt. */
        private void packKeys(int[] keyIndex, int width, float[][] kt, float[][] vt) {
            int d = a.dimHead;
            for (int j = 0; j < width; j++) {
                int src = a.kOffset + b * a.kBatchStride + keyIndex[j] * a.kRowStride + g * d;
                float inv = 1f;
                if (a.qkNorm) {
                    double ss = 0;
                    for (int e = 0; e < d; e++) {
                        ss += (double) a.k[src + e] * a.k[src + e];
                    }
                    inv = (float) (1.0 / Math.max(Math.sqrt(ss), 1e-12));
                }
                for (int e = 0; e < d; e++) {
                    kt[e][j] = a.k[src + e] * inv;
                }
                if (vt[j] == null) {
                    vt[j] = new float[d];
                }
                System.arraycopy(a.v, a.vOffset + b * a.vBatchStride + keyIndex[j] * a.vRowStride + g * d, vt[j], 0,
                        d);
            }
        }
    }

    /*
     * Summation orders (fixed by the shapes and the modality only): s[c] adds q[e] * k_c[e] for e = 0 .. d - 1;
     * acc[e] adds p_c * v_c[e] over the tile's columns in key order.
     */

    /**
     * Replaces {@code x[c]} by {@code exp(x[c] - max)} for c in [c0, c1) and returns their sum (in column order);
     * a masked column (-inf) becomes 0. The method of {@link FastExp}, split in two loops so that C2 vectorises
     * the polynomial (as {@code FusedAttention} does).
     */
    private static float weights(float[] x, int c0, int c1, float max, float[] poly, float[] pow2) {
        for (int c = c0; c < c1; c++) {
            float y = Math.max(x[c] - max, FastExp.UNDERFLOW);
            float n = (y * FastExp.LOG2E + ROUND_SHIFTER) - ROUND_SHIFTER;
            poly[c] = FastExp.polynomial(y, n);
            pow2[c] = n;
        }
        float sum = 0f;
        for (int c = c0; c < c1; c++) {
            float w = x[c] - max < FastExp.UNDERFLOW ? 0f
                    : poly[c] * Float.intBitsToFloat(((int) pow2[c] + 127) << 23);
            sum += w;
            x[c] = w;
        }
        return sum;
    }

    /** {@code s[c] = q . k_c} for tile columns [c0, c1), vectorised over c. */
    private static void scores(float[] q, float[][] kt, int d, int c0, int c1, float[] s) {
        Arrays.fill(s, c0, c1, 0f);
        int e = 0;
        for (; e + 3 < d; e += 4) {
            float q0 = q[e];
            float q1 = q[e + 1];
            float q2 = q[e + 2];
            float q3 = q[e + 3];
            float[] k0 = kt[e];
            float[] k1 = kt[e + 1];
            float[] k2 = kt[e + 2];
            float[] k3 = kt[e + 3];
            for (int c = c0; c < c1; c++) {
                float t = s[c];
                t += q0 * k0[c];
                t += q1 * k1[c];
                t += q2 * k2[c];
                t += q3 * k3[c];
                s[c] = t;
            }
        }
        for (; e < d; e++) {
            float qe = q[e];
            float[] ke = kt[e];
            for (int c = c0; c < c1; c++) {
                s[c] += qe * ke[c];
            }
        }
    }

    /** {@code acc += sum_c p[c] v_c} over columns [c0, c1), vectorised over the head dimension. */
    private static void accumulate(float[] acc, float[] p, float[][] vt, int d, int c0, int c1) {
        int c = c0;
        for (; c + 3 < c1; c += 4) {
            float p0 = p[c];
            float p1 = p[c + 1];
            float p2 = p[c + 2];
            float p3 = p[c + 3];
            float[] v0 = vt[c];
            float[] v1 = vt[c + 1];
            float[] v2 = vt[c + 2];
            float[] v3 = vt[c + 3];
            for (int e = 0; e < d; e++) {
                float t = acc[e];
                t += p0 * v0[e];
                t += p1 * v1[e];
                t += p2 * v2[e];
                t += p3 * v3[e];
                acc[e] = t;
            }
        }
        for (; c < c1; c++) {
            float pc = p[c];
            float[] vc = vt[c];
            for (int e = 0; e < d; e++) {
                acc[e] += pc * vc[e];
            }
        }
    }
}
