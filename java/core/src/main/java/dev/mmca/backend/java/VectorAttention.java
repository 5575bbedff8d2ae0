package dev.mmca.backend.java;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused masked grouped-query attention on the Vector API: the same contract, work items and key split as
 * {@link FusedAttention} (online softmax over key tiles; items of (batch element, kv head, query tile) with all
 * query heads of the kv head stacked as rows; calls with fewer than {@link FusedAttention#MIN_ITEMS} items split
 * their keys into chunks merged by {@link FusedAttention.State#merge}), with the query rows in the vector lanes:
 * each block of {@link #BLOCK} rows keeps its running max {@code m}, sum {@code l} and unnormalised output
 * {@code acc} as vectors, so the softmax needs no horizontal reduction and both products are register-blocked
 * outer products:
 * <pre>
 *   s[j][rows]   = sum_e k_j[e] * (scale q)[e][rows]       (broadcast a key element, FMA with query lanes)
 *   m'           = max(m, max_j s[j])                      (lane-wise)
 *   p[j]         = exp(s[j] - m'),   c = exp(m - m')
 *   acc[e][rows] = c acc[e][rows] + sum_j v_j[e] * p[j]    (broadcast a value element, FMA with weight lanes)
 *   l            = c l + sum_j p[j]
 * </pre>
 * Summation orders (fixed by the shapes and the masks, never by the thread): a score is one chain of fused
 * multiply-adds over {@code e = 0 .. d-1}; {@code acc} and {@code l} add the visible keys in key order, tile by
 * tile. The scale is applied to the queries once, before the products. The exponential is {@link FastExp}'s
 * method, lane-wise ({@link #weights}).
 */
final class VectorAttention {
    private static final VectorSpecies<Float> S = VectorKernels.SPECIES;
    private static final int L = S.length();
    /** Query rows per block: two vectors of lanes. */
    static final int BLOCK = 2 * L;
    /** Keys per tile: the tile's keys and values (2 x 64 x d floats) stay in L1 while every block uses them. */
    static final int KEY_TILE = 64;

    /** 1.5 * 2^23: {@code x + SHIFTER} rounds x (|x| < 2^22) to an integer n and leaves n in the low mantissa bits. */
    static final float SHIFTER = 12582912f;

    private VectorAttention() {
    }

    /** See {@link JavaKernels#attention}: returns -1 or the first query row whose scores overflowed float32. */
    static long run(AttentionArgs a) {
        int queryTiles = (a.queries + FusedAttention.QUERY_TILE - 1) / FusedAttention.QUERY_TILE;
        int items = a.batch * a.kvHeads * queryTiles;
        int chunks = FusedAttention.keyChunks(items, a.keys);
        KeyPanels panels = KeyPanels.pack(a, KEY_TILE);
        FirstIndex bad = new FirstIndex();
        if (chunks == 1) {
            Parallel.forEach(items, t -> {
                Item item = new Item(a, panels, t, queryTiles);
                Partial st = item.accumulate(0, item.keyEnd);
                bad.report(item.firstOverflow(st.m, st.l));
                item.write(st);
            });
            return bad.get();
        }
        // Chunk c of an item covers its visible keys [c * span, (c + 1) * span) (positions among the batch element's
        // visible keys), span a whole number of key tiles; partial states merge in chunk order.
        Item[] all = new Item[items];
        FusedAttention.State[][] partial = new FusedAttention.State[items][chunks];
        Parallel.forEach(items, t -> all[t] = new Item(a, panels, t, queryTiles));
        Parallel.forEach(items * chunks, w -> {
            Item item = all[w / chunks];
            int c = w % chunks;
            partial[w / chunks][c] = item.accumulate(FusedAttention.chunkStart(item.keyEnd, chunks, c, KEY_TILE),
                    FusedAttention.chunkStart(item.keyEnd, chunks, c + 1, KEY_TILE)).toState(item);
        });
        Parallel.forEach(items, t -> {
            FusedAttention.State merged = FusedAttention.State.merge(partial[t], all[t].lanes, a.dimHead);
            bad.report(all[t].firstOverflow(merged.m, merged.l));
            all[t].write(merged);
        });
        return bad.get();
    }

    /** The running state of an item's rows over some keys: {@code m} and {@code l} per row, {@code acc[e][row]}. */
    private static final class Partial {
        final float[] m;
        final float[] l;
        final float[] accT;

        Partial(int paddedLanes, int d) {
            m = new float[paddedLanes];
            l = new float[paddedLanes];
            accT = new float[d * paddedLanes];
            Arrays.fill(m, Float.NEGATIVE_INFINITY);
        }

        /** The same state in the scalar kernel's row-major form, for {@link FusedAttention.State#merge}. */
        FusedAttention.State toState(Item item) {
            int d = item.a.dimHead;
            FusedAttention.State st = new FusedAttention.State(item.lanes, d);
            for (int lane = 0; lane < item.lanes; lane++) {
                st.m[lane] = m[lane];
                st.l[lane] = l[lane];
                float[] acc = st.acc[lane];
                for (int e = 0; e < d; e++) {
                    acc[e] = accT[e * item.padded + lane];
                }
            }
            return st;
        }
    }

    /**
     * The rows of one work item: for batch element b and kv head g, every query head reading g over queries
     * [i0, i1), stacked head-major as lanes (padded to whole blocks), with their scaled queries transposed and the
     * last key each may see.
     */
    private static final class Item {
        final AttentionArgs a;
        final KeyPanels panels;
        final int b;
        final int g;
        final int i0;
        final int rows;
        final int lanes;
        /** Lanes rounded up to whole blocks; the padding lanes are inactive. */
        final int padded;
        final int[] qHeads;
        /** {@code (scale q)} in the blocked transpose of {@link #loadQuery}. */
        final float[] qT;
        final boolean[] active;
        /** The last key index the lane's query may see (-1: none). */
        final int[] last;
        /** Per block: the largest and the smallest {@link #last} of its active lanes (-1 and MAX_VALUE: none). */
        final int[] blockMax;
        final int[] blockMin;
        /** How many of the batch element's visible keys ({@link KeyPanels#keys}) some active lane may see. */
        final int keyEnd;
        /** The element's first visible key ({@link KeyPanels#keys}): an active lane with last >= it sees a key. */
        final int firstKey;

        Item(AttentionArgs a, KeyPanels panels, int t, int queryTiles) {
            this.a = a;
            this.panels = panels;
            int qt = t % queryTiles;
            this.g = (t / queryTiles) % a.kvHeads;
            this.b = t / (queryTiles * a.kvHeads);
            this.i0 = qt * FusedAttention.QUERY_TILE;
            int i1 = Math.min(a.queries, (qt + 1) * FusedAttention.QUERY_TILE);
            final int d = a.dimHead;
            final int groupSize = a.heads / a.kvHeads;
            this.rows = i1 - i0;
            this.lanes = groupSize * rows;
            this.padded = (lanes + BLOCK - 1) / BLOCK * BLOCK;
            qHeads = a.queryHeads(g);
            qT = new float[d * padded];
            active = new boolean[padded];
            last = new int[padded];
            Arrays.fill(last, -1);
            float[] row = new float[d];
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
                    loadQuery(a, b, i, qHeads[hi], row, qT, lane);
                }
            }
            int seen = Arrays.binarySearch(panels.keys[b], end);
            keyEnd = seen >= 0 ? seen : -seen - 1;
            firstKey = panels.keys[b].length > 0 ? panels.keys[b][0] : Integer.MAX_VALUE;
            int blocks = padded / BLOCK;
            blockMax = new int[blocks];
            blockMin = new int[blocks];
            for (int blk = 0; blk < blocks; blk++) {
                int hi = -1;
                int lo = Integer.MAX_VALUE;
                for (int lane = blk * BLOCK; lane < (blk + 1) * BLOCK; lane++) {
                    if (active[lane]) {
                        hi = Math.max(hi, last[lane]);
                        lo = Math.min(lo, last[lane]);
                    }
                }
                blockMax[blk] = hi;
                blockMin[blk] = lo;
            }
        }

        /**
         * The state over the batch element's visible keys {@code [from, to)} (positions in {@link KeyPanels#keys},
         * from a whole number of key tiles), tile by tile.
         */
        Partial accumulate(int from, int to) {
            final int d = a.dimHead;
            Partial st = new Partial(padded, d);
            int[] keys = panels.keys[b];
            KeyPanels.Tile tile = panels.new Tile(a, b, g);
            float[] s = new float[KEY_TILE * BLOCK];
            float[] work = new float[4 * BLOCK];
            float[] visible = new float[BLOCK];
            float[] zeros = new float[BLOCK];
            for (int t0 = from; t0 < to; t0 += KEY_TILE) {
                // the tile of keys[t0, t0 + width), of which the first `end` are in range
                int width = Math.min(KEY_TILE, keys.length - t0);
                int end = Math.min(width, to - t0);
                tile.load(t0 / KEY_TILE);
                for (int blk = 0; blk < blockMax.length; blk++) {
                    // keys visible to some lane of the block: a prefix of the tile, since visibility is j <= last
                    int count = end;
                    while (count > 0 && keys[t0 + count - 1] > blockMax[blk]) {
                        count--;
                    }
                    if (count == 0) {
                        continue;
                    }
                    int lb = blk * BLOCK;
                    scores(qT, lb * d, tile.k, tile.at, width, d, 0, count, s);
                    if (keys[t0 + count - 1] > blockMin[blk]) {
                        // some lane sees only part of the tile: hide the rest (score -inf, weight 0)
                        for (int lane = 0; lane < BLOCK; lane++) {
                            int n = 0;
                            while (n < count && keys[t0 + n] <= last[lb + lane]) {
                                n++;
                            }
                            visible[lane] = n;
                        }
                        hide(s, 0, count, zeros, visible);
                    }
                    softmax(s, 0, count, st.m, st.l, lb, work);
                    values(st.accT, lb, padded, s, tile.v, tile.at, width, d, 0, count, work);
                }
            }
            return st;
        }

        /**
         * {@code b * queries + i} of the first active row whose scores overflowed ({@link FusedAttention#overflowed}),
         * or -1. A score that overflowed float32 upwards is +inf here (a chain of fused multiply-adds over finite
         * inputs cannot make inf - inf, so no NaN): m becomes +inf, in a chunk and in the merge of the chunks. A row
         * whose every visible score is -inf keeps m = -inf, as a row that saw no key does; which of the two it is
         * follows from the masks alone.
         */
        long firstOverflow(float[] m, float[] l) {
            for (int r = 0; r < rows; r++) {
                for (int hi = 0; hi < qHeads.length; hi++) {
                    int lane = hi * rows + r;
                    if (active[lane] && FusedAttention.overflowed(last[lane] >= firstKey, m[lane], l[lane])) {
                        return (long) b * a.queries + i0 + r;
                    }
                }
            }
            return -1;
        }

        /** out = acc / l per row ({@link VectorTransposedRows}); a masked query's row, or one without keys, is 0. */
        void write(Partial st) {
            final int d = a.dimHead;
            float[] inv = new float[padded];
            int[] dst = new int[padded];
            Arrays.fill(dst, -1);
            for (int hi = 0; hi < qHeads.length; hi++) {
                for (int r = 0; r < rows; r++) {
                    int lane = hi * rows + r;
                    int at = a.oOffset + b * a.oBatchStride + (i0 + r) * a.oRowStride + qHeads[hi] * d;
                    if (!active[lane] || st.l[lane] == 0f) {
                        Arrays.fill(a.o, at, at + d, 0f);
                        continue;
                    }
                    dst[lane] = at;
                    inv[lane] = 1f / st.l[lane];
                }
            }
            VectorTransposedRows.write(st.accT, inv, padded, padded, d, a.o, dst);
        }

        /** {@link #write(Partial)} for a merged state. */
        void write(FusedAttention.State st) {
            final int d = a.dimHead;
            for (int hi = 0; hi < qHeads.length; hi++) {
                for (int r = 0; r < rows; r++) {
                    int lane = hi * rows + r;
                    int dst = a.oOffset + b * a.oBatchStride + (i0 + r) * a.oRowStride + qHeads[hi] * d;
                    if (!active[lane] || st.l[lane] == 0f) {
                        Arrays.fill(a.o, dst, dst + d, 0f);
                        continue;
                    }
                    float inv = 1f / st.l[lane];
                    float[] acc = st.acc[lane];
                    for (int e = 0; e < d; e++) {
                        a.o[dst + e] = acc[e] * inv;
                    }
                }
            }
        }
    }

    /**
     * Query i of head h in batch element b (L2-normalised with qk_norm), times the scale, into lane {@code lane} of
     * the blocked transpose {@code qT}: the block of lane's {@link #BLOCK} lanes holds {@code d} rows of BLOCK lanes,
     * {@code qT[(lane / BLOCK) d BLOCK + e BLOCK + lane % BLOCK]}, which {@link #scores} reads with a constant stride.
     * {@code row} is scratch of {@code d} floats.
     */
    static void loadQuery(AttentionArgs a, int b, int i, int h, float[] row, float[] qT, int lane) {
        int d = a.dimHead;
        System.arraycopy(a.q, a.qOffset + b * a.qBatchStride + i * a.qRowStride + h * d, row, 0, d);
        if (a.qkNorm) {
            FusedAttention.normalize(row, 0, d);
        }
        int at = lane / BLOCK * d * BLOCK + lane % BLOCK;
        for (int e = 0; e < d; e++) {
            qT[at + e * BLOCK] = row[e] * a.scale;
        }
    }

    /*
     * The kernels below take only arrays and ints and call nothing but the Vector API, so they run at full speed
     * whether or not C2 inlines them into their caller (a vector that crosses a call C2 did not inline is boxed).
     * Their inner loops index every array as (loop variable) x (power of two) + (invariant): the blocked queries, the
     * panels of KeyPanels and the score rows, so C2 hoists all bounds checks out of them.
     * Each keeps a block of 2 lane vectors times up to 4 keys (or head elements) in registers: 8 accumulators and
     * two vector operands leave 6 of the 16 AVX2 vector registers for the broadcasts, which C2 loads ahead of their
     * use. With 6 keys (12 accumulators) C2 on Java 25 spilled an accumulator to the stack inside the loop, and on
     * Java 17 kept the bounds check of the j * 6 index: 4 ran faster on both (A1 and A2, same JVM, alternated).
     */

    /**
     * {@code s[j][lanes] = sum_e k_j[e] * q[e][lanes]} for the two lane vectors of the block whose queries start at
     * {@code qb} of the blocked {@code q} ({@link #loadQuery}), and the keys {@code j} of a {@link KeyPanels} tile of
     * {@code width} keys at {@code at} of {@code k}: every key of each group that overlaps {@code [from, to)} (a
     * score does not depend on its group, so the extra scores of a group's other keys are harmless).
     */
    static void scores(float[] q, int qb, float[] k, int at, int width, int d, int from, int to, float[] s) {
        for (int j = 0; j < to; j += KeyPanels.groupWidth(width, j)) {
            int w = KeyPanels.groupWidth(width, j);
            if (j + w <= from) {
                continue;
            }
            int kb = at + j * d;
            switch (w) {
                case 4 -> scores4(q, qb, k, kb, d, j, s);
                case 2 -> scores2(q, qb, k, kb, d, j, s);
                default -> scores1(q, qb, k, kb, d, j, s);
            }
        }
    }

    /** {@link #scores} for the group of keys {@code [j, j + 4)}, its panel at {@code kb}. */
    static void scores4(float[] q, int qb, float[] k, int kb, int d, int j, float[] s) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z;
        FloatVector s10 = z, s11 = z;
        FloatVector s20 = z, s21 = z;
        FloatVector s30 = z, s31 = z;
        for (int e = 0; e < d; e++) {
            int qi = qb + e * BLOCK;
            int ki = kb + e * 4;
            FloatVector q0 = FloatVector.fromArray(S, q, qi);
            FloatVector q1 = FloatVector.fromArray(S, q, qi + L);
            FloatVector b0 = FloatVector.broadcast(S, k[ki]);
            s00 = b0.fma(q0, s00);
            s01 = b0.fma(q1, s01);
            FloatVector b1 = FloatVector.broadcast(S, k[ki + 1]);
            s10 = b1.fma(q0, s10);
            s11 = b1.fma(q1, s11);
            FloatVector b2 = FloatVector.broadcast(S, k[ki + 2]);
            s20 = b2.fma(q0, s20);
            s21 = b2.fma(q1, s21);
            FloatVector b3 = FloatVector.broadcast(S, k[ki + 3]);
            s30 = b3.fma(q0, s30);
            s31 = b3.fma(q1, s31);
        }
        s00.intoArray(s, j * BLOCK);
        s01.intoArray(s, j * BLOCK + L);
        s10.intoArray(s, (j + 1) * BLOCK);
        s11.intoArray(s, (j + 1) * BLOCK + L);
        s20.intoArray(s, (j + 2) * BLOCK);
        s21.intoArray(s, (j + 2) * BLOCK + L);
        s30.intoArray(s, (j + 3) * BLOCK);
        s31.intoArray(s, (j + 3) * BLOCK + L);
    }

    /** {@link #scores} for the group of keys {@code [j, j + 2)}, its panel at {@code kb}. */
    static void scores2(float[] q, int qb, float[] k, int kb, int d, int j, float[] s) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z;
        FloatVector s10 = z, s11 = z;
        for (int e = 0; e < d; e++) {
            int qi = qb + e * BLOCK;
            int ki = kb + e * 2;
            FloatVector q0 = FloatVector.fromArray(S, q, qi);
            FloatVector q1 = FloatVector.fromArray(S, q, qi + L);
            FloatVector b0 = FloatVector.broadcast(S, k[ki]);
            s00 = b0.fma(q0, s00);
            s01 = b0.fma(q1, s01);
            FloatVector b1 = FloatVector.broadcast(S, k[ki + 1]);
            s10 = b1.fma(q0, s10);
            s11 = b1.fma(q1, s11);
        }
        s00.intoArray(s, j * BLOCK);
        s01.intoArray(s, j * BLOCK + L);
        s10.intoArray(s, (j + 1) * BLOCK);
        s11.intoArray(s, (j + 1) * BLOCK + L);
    }

    /** {@link #scores} for the group of keys {@code [j, j + 1)}, its panel at {@code kb}. */
    static void scores1(float[] q, int qb, float[] k, int kb, int d, int j, float[] s) {
        FloatVector z = FloatVector.zero(S);
        FloatVector s00 = z, s01 = z;
        for (int e = 0; e < d; e++) {
            int qi = qb + e * BLOCK;
            int ki = kb + e;
            FloatVector q0 = FloatVector.fromArray(S, q, qi);
            FloatVector q1 = FloatVector.fromArray(S, q, qi + L);
            FloatVector b0 = FloatVector.broadcast(S, k[ki]);
            s00 = b0.fma(q0, s00);
            s01 = b0.fma(q1, s01);
        }
        s00.intoArray(s, j * BLOCK);
        s01.intoArray(s, j * BLOCK + L);
    }

    /**
     * {@code s[j][lane] = -inf} for keys {@code j} in {@code [from, to)} outside {@code [lo[lane], hi[lane])} (the
     * lane's query may not see key j), the bounds as floats.
     */
    static void hide(float[] s, int from, int to, float[] lo, float[] hi) {
        for (int half = 0; half < BLOCK; half += L) {
            FloatVector n = FloatVector.fromArray(S, hi, half);
            FloatVector first = FloatVector.fromArray(S, lo, half);
            for (int j = from; j < to; j++) {
                int o = j * BLOCK + half;
                VectorMask<Float> outside = n.compare(VectorOperators.LE, (float) j)
                        .or(first.compare(VectorOperators.GT, (float) j));
                FloatVector.fromArray(S, s, o).blend(Float.NEGATIVE_INFINITY, outside).intoArray(s, o);
            }
        }
    }

    /**
     * The online-softmax step of one block over the keys {@code [from, to)}: replaces the scores by their weights
     * {@code exp(s - m')}, updates {@code m} and {@code l} of lanes {@code [lb, lb + BLOCK)}, and leaves the factor
     * {@code exp(m - m')} for the block's accumulators in {@code work[0, BLOCK)}. {@code work}: the correction, the
     * shift {@code m'}, the weights' sums and the tile's max, {@code BLOCK} floats each.
     */
    static void softmax(float[] s, int from, int to, float[] m, float[] l, int lb, float[] work) {
        tileMax(s, from, to, work, 3 * BLOCK);
        for (int half = 0; half < BLOCK; half += L) {
            FloatVector mOld = FloatVector.fromArray(S, m, lb + half);
            FloatVector max = FloatVector.fromArray(S, work, 3 * BLOCK + half);
            FloatVector mNew = mOld.blend(max, mOld.lt(max));
            mNew.intoArray(m, lb + half);
            // a lane that has seen no visible key yet keeps m = -inf; subtracting 0 instead keeps its weights 0 (not
            // NaN)
            mNew.blend(0f, mNew.eq(Float.NEGATIVE_INFINITY)).intoArray(work, BLOCK + half);
            mOld.intoArray(work, half);
        }
        // the correction exp(m - m'), as a one-key tile; then the tile's weights and their sums
        weights(work, 0, 1, work);
        weights(s, from, to, work);
        for (int half = 0; half < BLOCK; half += L) {
            FloatVector.fromArray(S, l, lb + half).mul(FloatVector.fromArray(S, work, half))
                    .add(FloatVector.fromArray(S, work, 2 * BLOCK + half)).intoArray(l, lb + half);
        }
    }

    /** {@code out[at ..] = max_j s[j]} per lane over {@code j} in {@code [from, to)}, one chain per lane vector. */
    static void tileMax(float[] s, int from, int to, float[] out, int at) {
        FloatVector a = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        FloatVector b = a;
        for (int j = from; j < to; j++) {
            FloatVector x = FloatVector.fromArray(S, s, j * BLOCK);
            a = a.blend(x, a.lt(x));
            x = FloatVector.fromArray(S, s, j * BLOCK + L);
            b = b.blend(x, b.lt(x));
        }
        a.intoArray(out, at);
        b.intoArray(out, at + L);
    }

    /**
     * {@code s[j] = exp(s[j] - shift)} for the rows {@code j} in {@code [from, to)} of a block, {@code shift} in
     * {@code work[BLOCK, 2 BLOCK)}; the rows' sums (in row order) into {@code work[2 BLOCK, 3 BLOCK)}.
     *
     * <p>{@code e^x} for {@code x <= 0} or -inf by {@link FastExp}'s method: {@code x = n ln2 + r} with n rounded by
     * the {@link #SHIFTER} (which also leaves n in the low bits, so {@code 2^n} is a shift and an add in the exponent
     * field), ln2 in two parts so r is exact, {@code e^r} by the degree-6 polynomial, evaluated in Estrin's order
     * ({@code (c0 + c1 r) + r^2 (c2 + c3 r) + r^4 (c4 + c5 r + c6 r^2)}: half the dependent steps of Horner's). Below
     * {@link FastExp#UNDERFLOW} (and for -inf, whose lanes compute garbage) the result is 0, as in {@link FastExp#exp};
     * above it n >= -126, so {@code 2^n} is a normal float. {@code r = (x - n LN2_HI) - n LN2_LO} in two fused steps,
     * the first exact ({@code n LN2_HI} has at most 7 + 9 significant bits). Written out here rather than called: a
     * call C2 does not inline would box every vector.
     */
    static void weights(float[] s, int from, int to, float[] work) {
        FloatVector shift0 = FloatVector.fromArray(S, work, BLOCK);
        FloatVector shift1 = FloatVector.fromArray(S, work, BLOCK + L);
        FloatVector sum0 = FloatVector.zero(S);
        FloatVector sum1 = sum0;
        FloatVector log2e = FloatVector.broadcast(S, FastExp.LOG2E);
        FloatVector shifter = FloatVector.broadcast(S, SHIFTER);
        FloatVector ln2Hi = FloatVector.broadcast(S, -FastExp.LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, -FastExp.LN2_LO);
        FloatVector c0 = FloatVector.broadcast(S, FastExp.C0);
        FloatVector c1 = FloatVector.broadcast(S, FastExp.C1);
        FloatVector c2 = FloatVector.broadcast(S, FastExp.C2);
        FloatVector c3 = FloatVector.broadcast(S, FastExp.C3);
        FloatVector c4 = FloatVector.broadcast(S, FastExp.C4);
        FloatVector c5 = FloatVector.broadcast(S, FastExp.C5);
        FloatVector c6 = FloatVector.broadcast(S, FastExp.C6);
        for (int j = from; j < to; j++) {
            int o = j * BLOCK;
            FloatVector x0 = FloatVector.fromArray(S, s, o).sub(shift0);
            VectorMask<Float> under0 = x0.lt(FastExp.UNDERFLOW);
            FloatVector t0 = x0.fma(log2e, shifter);
            FloatVector n0 = t0.sub(shifter);
            FloatVector r0 = n0.fma(ln2Lo, n0.fma(ln2Hi, x0));
            FloatVector rr0 = r0.mul(r0);
            FloatVector lo0 = rr0.fma(r0.fma(c3, c2), r0.fma(c1, c0));
            FloatVector hi0 = rr0.fma(c6, r0.fma(c5, c4));
            FloatVector p0 = rr0.mul(rr0).fma(hi0, lo0)
                    .mul(((IntVector) t0.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).add(127 << 23)
                            .reinterpretAsFloats())
                    .blend(0f, under0);
            p0.intoArray(s, o);
            sum0 = sum0.add(p0);
            FloatVector x1 = FloatVector.fromArray(S, s, o + L).sub(shift1);
            VectorMask<Float> under1 = x1.lt(FastExp.UNDERFLOW);
            FloatVector t1 = x1.fma(log2e, shifter);
            FloatVector n1 = t1.sub(shifter);
            FloatVector r1 = n1.fma(ln2Lo, n1.fma(ln2Hi, x1));
            FloatVector rr1 = r1.mul(r1);
            FloatVector lo1 = rr1.fma(r1.fma(c3, c2), r1.fma(c1, c0));
            FloatVector hi1 = rr1.fma(c6, r1.fma(c5, c4));
            FloatVector p1 = rr1.mul(rr1).fma(hi1, lo1)
                    .mul(((IntVector) t1.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23).add(127 << 23)
                            .reinterpretAsFloats())
                    .blend(0f, under1);
            p1.intoArray(s, o + L);
            sum1 = sum1.add(p1);
        }
        sum0.intoArray(work, 2 * BLOCK);
        sum1.intoArray(work, 2 * BLOCK + L);
    }

    /**
     * {@code accT[e][lb + lanes] = c * accT[e][lb + lanes] + sum_j v_j[e] * p[j][lanes]} for keys {@code j} in
     * {@code [from, to)} of a {@link KeyPanels} tile of {@code width} keys at {@code at} of {@code v}, {@code c} in
     * {@code correction[0, BLOCK)}; one group of head elements at a time.
     */
    static void values(float[] accT, int lb, int stride, float[] p, float[] v, int at, int width, int d, int from,
            int to, float[] correction) {
        for (int e = 0; e < d; e += KeyPanels.groupWidth(d, e)) {
            int vb = at + e * width;
            switch (KeyPanels.groupWidth(d, e)) {
                case 4 -> values4(accT, lb, stride, p, v, vb, e, from, to, correction);
                case 2 -> values2(accT, lb, stride, p, v, vb, e, from, to, correction);
                default -> values1(accT, lb, stride, p, v, vb, e, from, to, correction);
            }
        }
    }

    /** {@link #values} for the group of head elements {@code [e, e + 4)}, its panel at {@code vb}. */
    static void values4(float[] accT, int lb, int stride, float[] p, float[] v, int vb, int e, int from, int to,
            float[] correction) {
        FloatVector c0 = FloatVector.fromArray(S, correction, 0);
        FloatVector c1 = FloatVector.fromArray(S, correction, L);
        int o0 = e * stride + lb;
        FloatVector a00 = FloatVector.fromArray(S, accT, o0).mul(c0);
        FloatVector a01 = FloatVector.fromArray(S, accT, o0 + L).mul(c1);
        int o1 = (e + 1) * stride + lb;
        FloatVector a10 = FloatVector.fromArray(S, accT, o1).mul(c0);
        FloatVector a11 = FloatVector.fromArray(S, accT, o1 + L).mul(c1);
        int o2 = (e + 2) * stride + lb;
        FloatVector a20 = FloatVector.fromArray(S, accT, o2).mul(c0);
        FloatVector a21 = FloatVector.fromArray(S, accT, o2 + L).mul(c1);
        int o3 = (e + 3) * stride + lb;
        FloatVector a30 = FloatVector.fromArray(S, accT, o3).mul(c0);
        FloatVector a31 = FloatVector.fromArray(S, accT, o3 + L).mul(c1);
        for (int j = from; j < to; j++) {
            int pi = j * BLOCK;
            int vi = vb + j * 4;
            FloatVector p0 = FloatVector.fromArray(S, p, pi);
            FloatVector p1 = FloatVector.fromArray(S, p, pi + L);
            FloatVector v0 = FloatVector.broadcast(S, v[vi]);
            a00 = v0.fma(p0, a00);
            a01 = v0.fma(p1, a01);
            FloatVector v1 = FloatVector.broadcast(S, v[vi + 1]);
            a10 = v1.fma(p0, a10);
            a11 = v1.fma(p1, a11);
            FloatVector v2 = FloatVector.broadcast(S, v[vi + 2]);
            a20 = v2.fma(p0, a20);
            a21 = v2.fma(p1, a21);
            FloatVector v3 = FloatVector.broadcast(S, v[vi + 3]);
            a30 = v3.fma(p0, a30);
            a31 = v3.fma(p1, a31);
        }
        a00.intoArray(accT, o0);
        a01.intoArray(accT, o0 + L);
        a10.intoArray(accT, o1);
        a11.intoArray(accT, o1 + L);
        a20.intoArray(accT, o2);
        a21.intoArray(accT, o2 + L);
        a30.intoArray(accT, o3);
        a31.intoArray(accT, o3 + L);
    }

    /** {@link #values} for the group of head elements {@code [e, e + 2)}, its panel at {@code vb}. */
    static void values2(float[] accT, int lb, int stride, float[] p, float[] v, int vb, int e, int from, int to,
            float[] correction) {
        FloatVector c0 = FloatVector.fromArray(S, correction, 0);
        FloatVector c1 = FloatVector.fromArray(S, correction, L);
        int o0 = e * stride + lb;
        FloatVector a00 = FloatVector.fromArray(S, accT, o0).mul(c0);
        FloatVector a01 = FloatVector.fromArray(S, accT, o0 + L).mul(c1);
        int o1 = (e + 1) * stride + lb;
        FloatVector a10 = FloatVector.fromArray(S, accT, o1).mul(c0);
        FloatVector a11 = FloatVector.fromArray(S, accT, o1 + L).mul(c1);
        for (int j = from; j < to; j++) {
            int pi = j * BLOCK;
            int vi = vb + j * 2;
            FloatVector p0 = FloatVector.fromArray(S, p, pi);
            FloatVector p1 = FloatVector.fromArray(S, p, pi + L);
            FloatVector v0 = FloatVector.broadcast(S, v[vi]);
            a00 = v0.fma(p0, a00);
            a01 = v0.fma(p1, a01);
            FloatVector v1 = FloatVector.broadcast(S, v[vi + 1]);
            a10 = v1.fma(p0, a10);
            a11 = v1.fma(p1, a11);
        }
        a00.intoArray(accT, o0);
        a01.intoArray(accT, o0 + L);
        a10.intoArray(accT, o1);
        a11.intoArray(accT, o1 + L);
    }

    /** {@link #values} for the group of head elements {@code [e, e + 1)}, its panel at {@code vb}. */
    static void values1(float[] accT, int lb, int stride, float[] p, float[] v, int vb, int e, int from, int to,
            float[] correction) {
        FloatVector c0 = FloatVector.fromArray(S, correction, 0);
        FloatVector c1 = FloatVector.fromArray(S, correction, L);
        int o0 = e * stride + lb;
        FloatVector a00 = FloatVector.fromArray(S, accT, o0).mul(c0);
        FloatVector a01 = FloatVector.fromArray(S, accT, o0 + L).mul(c1);
        for (int j = from; j < to; j++) {
            int pi = j * BLOCK;
            int vi = vb + j;
            FloatVector p0 = FloatVector.fromArray(S, p, pi);
            FloatVector p1 = FloatVector.fromArray(S, p, pi + L);
            FloatVector v0 = FloatVector.broadcast(S, v[vi]);
            a00 = v0.fma(p0, a00);
            a01 = v0.fma(p1, a01);
        }
        a00.intoArray(accT, o0);
        a01.intoArray(accT, o0 + L);
    }

}
