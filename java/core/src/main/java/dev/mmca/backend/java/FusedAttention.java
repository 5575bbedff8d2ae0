package dev.mmca.backend.java;

import java.util.Arrays;

/**
 * Fused masked grouped-query attention in pure Java (SPEC steps 2-5) with the online-softmax
 * formulation: for each (batch, kv head, query tile) task, key tiles stream through while every
 * query row keeps a running max {@code m}, a running sum {@code l} and an unnormalised output
 * {@code acc}:
 * <pre>
 *   s_j = scale * q_i . k_j                  (visible keys only)
 *   m'  = max(m, max_j s_j)
 *   acc = acc * exp(m - m') + sum_j exp(s_j - m') v_j
 *   l   = l   * exp(m - m') + sum_j exp(s_j - m')
 *   out = acc / l                            (zero when no key was visible)
 * </pre>
 * The N x M score matrix is never built; all query heads reading one kv head share each packed
 * key tile. Each output row is produced in a fixed order decided by the shapes alone (including the key
 * split of small calls, see {@link #MIN_ITEMS}), so results do not depend on the thread count.
 *
 * <p>Visibility: key j of batch element b is visible to query i when the key mask allows it, j is below
 * the element's key length (a partly filled cache), and, when causal, j is at most the query's position
 * (given, or right-aligned {@code i + keys - queries}).
 */
final class FusedAttention {
    static final int QUERY_TILE = 32;
    static final int KEY_TILE = 256;

    /** 1.5 * 2^23: adding and subtracting it rounds a float of magnitude below 2^22 to an integer. */
    private static final float ROUND_SHIFTER = 12582912f;

    private FusedAttention() {
    }

    /**
     * When a call has fewer than this many (batch, kv head, query tile) work items, the keys are split into
     * chunks that run as separate items and are merged (flash-decoding), so a one-token decoding step over
     * a long cache still uses every core. A constant, not the thread count: the split, and so the summation
     * order, depends on the shapes alone.
     */
    static final int MIN_ITEMS = 16;

    /**
     * Computes the attention; returns -1, or {@code b * queries + i} of the first query row whose scores
     * overflowed float32 (an infinite or NaN score from finite inputs).
     */
    static long run(AttentionArgs a) {
        FirstIndex bad = new FirstIndex();
        int queryTiles = (a.queries + QUERY_TILE - 1) / QUERY_TILE;
        int items = a.batch * a.kvHeads * queryTiles;
        int chunks = keyChunks(items, a.keys);
        if (chunks == 1) {
            Parallel.forEach(items, t -> {
                Tile tile = new Tile(a, t, queryTiles);
                tile.accumulate(0, tile.keyEnd);
                bad.report(tile.write(tile.state));
            });
            return bad.get();
        }
        // Chunk c of an item covers keys [c * span, (c + 1) * span) of the item's visible range, span a whole
        // number of key tiles; the chunks' partial states are merged in chunk order.
        Tile[] tiles = new Tile[items];
        State[][] partial = new State[items][chunks];
        Parallel.forEach(items, t -> tiles[t] = new Tile(a, t, queryTiles));
        Parallel.forEach(items * chunks, w -> {
            Tile tile = tiles[w / chunks];
            int c = w % chunks;
            partial[w / chunks][c] = tile.accumulate(chunkStart(tile.keyEnd, chunks, c, KEY_TILE),
                    chunkStart(tile.keyEnd, chunks, c + 1, KEY_TILE));
        });
        Parallel.forEach(items, t -> bad.report(tiles[t].write(State.merge(partial[t], tiles[t].lanes,
                a.dimHead))));
        return bad.get();
    }

    /**
     * How many chunks the keys of a call of {@code items} work items over {@code keys} keys split into: 1 from
     * {@link #MIN_ITEMS} items up, else enough for MIN_ITEMS tasks, at most one per {@link #KEY_TILE} keys.
     */
    static int keyChunks(int items, int keys) {
        if (items >= MIN_ITEMS) {
            return 1;
        }
        return Math.max(1, Math.min((keys + KEY_TILE - 1) / KEY_TILE, (MIN_ITEMS + items - 1) / items));
    }

    /**
     * Where chunk c of {@code chunks} starts among an item's first {@code keyEnd} visible keys (c = chunks: their
     * end): equal spans, each a whole number of tiles of {@code tile} keys.
     */
    static int chunkStart(int keyEnd, int chunks, int c, int tile) {
        int span = (keyEnd + chunks - 1) / chunks;
        span = (span + tile - 1) / tile * tile;
        return Math.min(keyEnd, c * span);
    }

    /**
     * Whether the final softmax state {@code (m, l)} of a row (or an interleaved group) means its scores overflowed
     * float32: m = +inf or NaN, l not finite, or, when the row saw at least one key ({@code sawKey}), m = -inf,
     * every visible score having overflowed downwards. A row that saw no key keeps m = -inf and l = 0, which is no
     * overflow; a single -inf score among finite ones only has weight 0.
     */
    static boolean overflowed(boolean sawKey, float m, float l) {
        return !(m <= Float.MAX_VALUE && l <= Float.MAX_VALUE) || (sawKey && m == Float.NEGATIVE_INFINITY);
    }

    /** The running softmax state of every row (lane) of a tile: max m, sum l, unnormalised output acc. */
    static final class State {
        final float[] m;
        final float[] l;
        final float[][] acc;

        State(int lanes, int d) {
            m = new float[lanes];
            l = new float[lanes];
            acc = new float[lanes][d];
            Arrays.fill(m, Float.NEGATIVE_INFINITY);
        }

        /**
         * The state of the union of disjoint key ranges: {@code m = max_c m_c},
         * {@code l = sum_c l_c exp(m_c - m)}, {@code acc = sum_c acc_c exp(m_c - m)}, chunks in order.
         */
        static State merge(State[] parts, int lanes, int d) {
            State out = new State(lanes, d);
            for (int lane = 0; lane < lanes; lane++) {
                float mx = Float.NEGATIVE_INFINITY;
                for (State p : parts) {
                    mx = Math.max(mx, p.m[lane]);
                }
                if (mx == Float.NEGATIVE_INFINITY) {
                    continue;  // no chunk saw a finite score: l stays 0 (write reports it if the row saw a key)
                }
                float[] acc = out.acc[lane];
                float l = 0f;
                for (State p : parts) {
                    if (p.m[lane] == Float.NEGATIVE_INFINITY) {
                        continue;
                    }
                    float f = FastExp.exp(p.m[lane] - mx);
                    l += p.l[lane] * f;
                    float[] pa = p.acc[lane];
                    for (int e = 0; e < d; e++) {
                        acc[e] += pa[e] * f;
                    }
                }
                out.m[lane] = mx;
                out.l[lane] = l;
            }
            return out;
        }
    }

    /**
     * The rows of one work item: for batch element b and kv head g, every query head reading g over queries
     * [i0, i1), stacked head-major as lanes, with their packed queries and the last key each may see.
     */
    private static final class Tile {
        final AttentionArgs a;
        final int b;
        final int g;
        final int i0;
        final int rows;
        final int lanes;
        final int[] qHeads;
        /** Per-lane rows as separate arrays: C2 (Java 17) vectorises a loop only when every array access
         * in it uses the same index expression. */
        final float[][] q;
        final boolean[] active;
        /** The last key index lane's query may see (-1: none). */
        final int[] last;
        /** One past the last key any active lane may see. */
        final int keyEnd;
        /** The element's first key that the key mask lets through: an active lane with last >= it sees a key. */
        final int firstKey;
        State state;

        Tile(AttentionArgs a, int t, int queryTiles) {
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
            q = new float[lanes][d];
            active = new boolean[lanes];
            last = new int[lanes];
            int end = 0;
            for (int hi = 0; hi < groupSize; hi++) {
                for (int r = 0; r < rows; r++) {
                    int lane = hi * rows + r;
                    int i = i0 + r;
                    last[lane] = a.lastVisibleKey(b, i);
                    active[lane] = a.queryActive(b, i, last[lane]);
                    if (active[lane]) {
                        end = Math.max(end, last[lane] + 1);
                    }
                    int src = a.qOffset + b * a.qBatchStride + i * a.qRowStride + qHeads[hi] * d;
                    System.arraycopy(a.q, src, q[lane], 0, d);
                    if (a.qkNorm) {
                        normalize(q[lane], 0, d);
                    }
                    // the logit scale is folded into the query once, as the native kernels do: s = (scale q) . k
                    float[] qr = q[lane];
                    for (int e = 0; e < d; e++) {
                        qr[e] *= a.scale;
                    }
                }
            }
            keyEnd = end;
            firstKey = a.firstUnmaskedKey(b);
            state = new State(lanes, d);
        }

        /** The state over the visible keys in [from, to) (a fresh state; the tile's own when whole). */
        State accumulate(int from, int to) {
            final int d = a.dimHead;
            State st = from == 0 && to == keyEnd ? state : new State(lanes, d);
            float[] m = st.m;
            float[] l = st.l;
            float[][] acc = st.acc;
            float[][] kt = new float[d][KEY_TILE];
            float[][] vt = new float[KEY_TILE][];
            int[] keyIndex = new int[KEY_TILE];
            float[] s = new float[KEY_TILE];
            float[] poly = new float[KEY_TILE];
            float[] pow2 = new float[KEY_TILE];
            int next = from;
            while (next < to) {
                // A tile holds the next KEY_TILE unmasked keys (masked keys cost nothing), in key order,
                // so a record's tiles are the same whether or not padding keys follow it in a batch.
                int width = 0;
                for (; next < to && width < KEY_TILE; next++) {
                    if (a.keyMask == null || a.keyMask[b * a.keys + next] != 0) {
                        keyIndex[width++] = next;
                    }
                }
                if (width == 0) {
                    break;
                }
                packKeys(a, b, g, keyIndex, width, kt, vt);
                for (int lane = 0; lane < lanes; lane++) {
                    if (!active[lane]) {
                        continue;
                    }
                    // visible keys of this tile: a prefix, since visibility is j <= last
                    int visible = width;
                    while (visible > 0 && keyIndex[visible - 1] > last[lane]) {
                        visible--;
                    }
                    if (visible == 0) {
                        continue;
                    }
                    scores(q[lane], kt, d, visible, s);
                    float tileMax = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < visible; j++) {
                        tileMax = Math.max(tileMax, s[j]);
                    }
                    if (tileMax == Float.NEGATIVE_INFINITY) {
                        continue;  // every score -inf (products overflowing downwards): no weight, the state stays
                    }
                    float mOld = m[lane];
                    float mNew = Math.max(mOld, tileMax);
                    float correction = mOld == Float.NEGATIVE_INFINITY ? 0f : FastExp.exp(mOld - mNew);
                    float[] accRow = acc[lane];
                    if (correction != 1f) {
                        for (int e = 0; e < d; e++) {
                            accRow[e] *= correction;
                        }
                    }
                    float sum = softmaxWeights(s, visible, mNew, poly, pow2);
                    FusedAttention.accumulate(accRow, s, vt, d, visible);
                    l[lane] = l[lane] * correction + sum;
                    m[lane] = mNew;
                }
            }
            return st;
        }

        /**
         * out = acc / l per row; rows with a masked query or no visible key are zero. Returns -1, or
         * {@code b * queries + i} of the first row whose scores overflowed ({@link #overflowed}: m = +inf or l NaN,
         * or m = -inf although the row saw a key).
         */
        long write(State st) {
            final int d = a.dimHead;
            long bad = -1;
            for (int hi = 0; hi < qHeads.length; hi++) {
                for (int r = 0; r < rows; r++) {
                    int lane = hi * rows + r;
                    if (active[lane] && overflowed(last[lane] >= firstKey, st.m[lane], st.l[lane])) {
                        long row = (long) b * a.queries + i0 + r;
                        bad = bad < 0 ? row : Math.min(bad, row);
                    }
                    int dst = a.oOffset + b * a.oBatchStride + (i0 + r) * a.oRowStride + qHeads[hi] * d;
                    if (!active[lane] || st.l[lane] == 0f) {
                        Arrays.fill(a.o, dst, dst + d, 0f);
                        continue;
                    }
                    float inv = 1f / st.l[lane];
                    float[] accRow = st.acc[lane];
                    for (int e = 0; e < d; e++) {
                        a.o[dst + e] = accRow[e] * inv;
                    }
                }
            }
            return bad;
        }
    }

    /**
     * Copies the listed keys of kv head g transposed into {@code kt [d][KEY_TILE]} and their value
     * rows into {@code vt}.
     */
    private static void packKeys(AttentionArgs a, int b, int g, int[] keyIndex, int width, float[][] kt,
            float[][] vt) {
        int d = a.dimHead;
        for (int j = 0; j < width; j++) {
            int src = a.kOffset + b * a.kBatchStride + keyIndex[j] * a.kRowStride + g * d;
            float inv = 1f;
            if (a.qkNorm) {
                inv = inverseNorm(a.k, src, d);
            }
            for (int e = 0; e < d; e++) {
                kt[e][j] = a.k[src + e] * inv;
            }
            if (vt[j] == null) {
                vt[j] = new float[d];
            }
            System.arraycopy(a.v, a.vOffset + b * a.vBatchStride + keyIndex[j] * a.vRowStride + g * d, vt[j], 0, d);
        }
    }

    /*
     * Summation orders (fixed by the shapes and the masks only, never by the thread or the lane):
     * s[j] starts at 0 and adds q[e] * k_j[e] for e = 0, 1, ..., d - 1; acc[e] adds p_j * v_j[e] for the
     * visible keys in key order. Each product and each add is rounded on its own (Java never fuses
     * them); the kernels only group consecutive terms per pass.
     */

    /**
     * Replaces {@code s[j]} by {@code exp(s[j] - max)} for {@code j < count} and returns their sum (added
     * in key order). The same method as {@link FastExp} (x = n ln2 + r, degree-6 polynomial, 2^n from the
     * exponent bits), split so that C2 vectorises the bulk: the first loop (float arithmetic only, n
     * rounded with the 1.5 * 2^23 shifter) computes the polynomial and n; the second, scalar, loop
     * builds 2^n, which needs an int-to-float bit move that Java 17 does not vectorise.
     */
    private static float softmaxWeights(float[] s, int count, float max, float[] poly, float[] pow2) {
        for (int j = 0; j < count; j++) {
            // clamped so that n >= -126 keeps 2^n a normal float; the second loop zeroes underflows
            float x = Math.max(s[j] - max, FastExp.UNDERFLOW);
            float n = (x * FastExp.LOG2E + ROUND_SHIFTER) - ROUND_SHIFTER;
            float p = FastExp.polynomial(x, n);
            poly[j] = p;
            pow2[j] = n;
        }
        float sum = 0f;
        for (int j = 0; j < count; j++) {
            float p = s[j] - max < FastExp.UNDERFLOW ? 0f
                    : poly[j] * Float.intBitsToFloat(((int) pow2[j] + 127) << 23);
            sum += p;
            s[j] = p;
        }
        return sum;
    }

    /** {@code s[j] = q . k_j} for the first {@code width} keys of the packed tile, vectorised over j. */
    private static void scores(float[] q, float[][] kt, int d, int width, float[] s) {
        Arrays.fill(s, 0, width, 0f);
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
            for (int j = 0; j < width; j++) {
                float t = s[j];
                t += q0 * k0[j];
                t += q1 * k1[j];
                t += q2 * k2[j];
                t += q3 * k3[j];
                s[j] = t;
            }
        }
        for (; e < d; e++) {
            float qe = q[e];
            float[] ke = kt[e];
            for (int j = 0; j < width; j++) {
                s[j] += qe * ke[j];
            }
        }
    }

    /** {@code acc += sum_j p[j] v_j} over the first {@code count} keys, vectorised over the head dimension. */
    private static void accumulate(float[] acc, float[] p, float[][] vt, int d, int count) {
        int j = 0;
        for (; j + 3 < count; j += 4) {
            float p0 = p[j];
            float p1 = p[j + 1];
            float p2 = p[j + 2];
            float p3 = p[j + 3];
            float[] v0 = vt[j];
            float[] v1 = vt[j + 1];
            float[] v2 = vt[j + 2];
            float[] v3 = vt[j + 3];
            for (int e = 0; e < d; e++) {
                float t = acc[e];
                t += p0 * v0[e];
                t += p1 * v1[e];
                t += p2 * v2[e];
                t += p3 * v3[e];
                acc[e] = t;
            }
        }
        for (; j < count; j++) {
            float pj = p[j];
            float[] vj = vt[j];
            for (int e = 0; e < d; e++) {
                acc[e] += pj * vj[e];
            }
        }
    }

    /** L2-normalises {@code x[o..o+d)} in place, as {@code F.normalize}: divide by max(||x||, 1e-12). */
    static void normalize(float[] x, int o, int d) {
        float inv = inverseNorm(x, o, d);
        for (int e = 0; e < d; e++) {
            x[o + e] *= inv;
        }
    }

    private static float inverseNorm(float[] x, int o, int d) {
        double ss = 0;
        for (int e = 0; e < d; e++) {
            ss += (double) x[o + e] * x[o + e];
        }
        return (float) (1.0 / Math.max(Math.sqrt(ss), 1e-12));
    }
}
