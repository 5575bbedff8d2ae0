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
 * method, lane-wise.
 */
final class VectorAttention {
    private static final VectorSpecies<Float> S = VectorKernels.SPECIES;
    private static final int L = S.length();
    /** Query rows per block: two vectors of lanes. */
    static final int BLOCK = 2 * L;
    /** Keys per packed tile: the tile's keys and values (2 x 64 x d floats) stay in L1 while every block uses them. */
    static final int KEY_TILE = 64;

    /** 1.5 * 2^23: {@code x + SHIFTER} rounds x (|x| < 2^22) to an integer n and leaves n in the low mantissa bits. */
    private static final float SHIFTER = 12582912f;

    private VectorAttention() {
    }

    static void run(AttentionArgs a) {
        int queryTiles = (a.queries + FusedAttention.QUERY_TILE - 1) / FusedAttention.QUERY_TILE;
        int items = a.batch * a.kvHeads * queryTiles;
        int maxChunks = (a.keys + FusedAttention.KEY_TILE - 1) / FusedAttention.KEY_TILE;
        int chunks = items >= FusedAttention.MIN_ITEMS ? 1
                : Math.min(maxChunks, (FusedAttention.MIN_ITEMS + items - 1) / items);
        if (chunks <= 1) {
            Parallel.forEach(items, t -> {
                Item item = new Item(a, t, queryTiles);
                item.write(item.accumulate(0, item.keyEnd));
            });
            return;
        }
        // Chunk c of an item covers keys [c * span, (c + 1) * span) of the item's visible range, span a whole
        // number of FusedAttention.KEY_TILE (as the scalar kernel splits); partial states merge in chunk order.
        Item[] all = new Item[items];
        FusedAttention.State[][] partial = new FusedAttention.State[items][chunks];
        Parallel.forEach(items, t -> all[t] = new Item(a, t, queryTiles));
        Parallel.forEach(items * chunks, w -> {
            Item item = all[w / chunks];
            int c = w % chunks;
            int span = (item.keyEnd + chunks - 1) / chunks;
            span = (span + FusedAttention.KEY_TILE - 1) / FusedAttention.KEY_TILE * FusedAttention.KEY_TILE;
            int from = Math.min(item.keyEnd, c * span);
            int to = Math.min(item.keyEnd, from + span);
            partial[w / chunks][c] = item.accumulate(from, to).toState(item);
        });
        Parallel.forEach(items, t -> all[t].write(FusedAttention.State.merge(partial[t], all[t].lanes, a.dimHead)));
    }

    /** The running state of an item's rows over some keys: {@code m}, {@code l} per row, {@code acc} as {@code [d][rows]}. */
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
        final int b;
        final int g;
        final int i0;
        final int rows;
        final int lanes;
        /** Lanes rounded up to whole blocks; the padding lanes are inactive. */
        final int padded;
        final int[] qHeads;
        /** {@code (scale q)} transposed: {@code qT[e * padded + lane]}. */
        final float[] qT;
        final boolean[] active;
        /** The last key index the lane's query may see (-1: none). */
        final int[] last;
        /** Per block: the largest and the smallest {@link #last} of its active lanes (-1 and MAX_VALUE: none). */
        final int[] blockMax;
        final int[] blockMin;
        /** One past the last key any active lane may see. */
        final int keyEnd;

        Item(AttentionArgs a, int t, int queryTiles) {
            this.a = a;
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
            qHeads = new int[groupSize];
            for (int h = 0, n = 0; h < a.heads; h++) {
                if (a.headMapping.kvHeadOf(h, a.heads, a.kvHeads) == g) {
                    qHeads[n++] = h;
                }
            }
            int keyLength = a.keyLengths == null ? a.keys : Math.max(0, Math.min(a.keys, a.keyLengths[b]));
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
                    long lk = keyLength - 1;
                    if (a.causal) {
                        long pos = a.queryPositions != null ? a.queryPositions[b * a.queryPositionsBatchStride + i]
                                : (long) i + a.keys - a.queries;
                        lk = Math.min(lk, pos);
                    }
                    last[lane] = (int) Math.max(-1, lk);
                    active[lane] = (a.queryMask == null || a.queryMask[b * a.queries + i] != 0) && last[lane] >= 0;
                    if (active[lane]) {
                        end = Math.max(end, last[lane] + 1);
                    }
                    int src = a.qOffset + b * a.qBatchStride + i * a.qRowStride + qHeads[hi] * d;
                    System.arraycopy(a.q, src, row, 0, d);
                    if (a.qkNorm) {
                        FusedAttention.normalize(row, 0, d);
                    }
                    for (int e = 0; e < d; e++) {
                        qT[e * padded + lane] = row[e] * a.scale;
                    }
                }
            }
            keyEnd = end;
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

        /** The state over the visible keys in [from, to). */
        Partial accumulate(int from, int to) {
            final int d = a.dimHead;
            Partial st = new Partial(padded, d);
            int capacity = Math.max(1, Math.min(KEY_TILE, to - from));
            float[] kt = new float[capacity * d];
            float[] vt = new float[capacity * d];
            int[] keyIndex = new int[capacity];
            float[] s = new float[capacity * BLOCK];
            float[] correction = new float[BLOCK];
            float[] visible = new float[BLOCK];
            int next = from;
            while (next < to) {
                // A tile holds the next unmasked keys (masked keys cost nothing), in key order.
                int width = 0;
                for (; next < to && width < capacity; next++) {
                    if (a.keyMask == null || a.keyMask[b * a.keys + next] != 0) {
                        keyIndex[width++] = next;
                    }
                }
                if (width == 0) {
                    break;
                }
                packKeys(keyIndex, width, kt, vt);
                for (int blk = 0; blk < blockMax.length; blk++) {
                    // keys visible to some lane of the block: a prefix of the tile, since visibility is j <= last
                    int count = width;
                    while (count > 0 && keyIndex[count - 1] > blockMax[blk]) {
                        count--;
                    }
                    if (count == 0) {
                        continue;
                    }
                    int lb = blk * BLOCK;
                    scores(qT, lb, padded, kt, d, count, s);
                    if (keyIndex[count - 1] > blockMin[blk]) {
                        // some lane sees only part of the tile: hide the rest (score -inf, weight 0)
                        for (int lane = 0; lane < BLOCK; lane++) {
                            int n = 0;
                            while (n < count && keyIndex[n] <= last[lb + lane]) {
                                n++;
                            }
                            visible[lane] = n;
                        }
                        hideInvisible(s, count, visible);
                    }
                    softmax(s, count, st.m, st.l, lb, correction);
                    values(st.accT, lb, padded, s, vt, d, count, correction);
                }
            }
            return st;
        }

        /** Copies the listed keys (L2-normalised with qk_norm) and values of kv head g into {@code [j][d]} tiles. */
        private void packKeys(int[] keyIndex, int width, float[] kt, float[] vt) {
            int d = a.dimHead;
            for (int j = 0; j < width; j++) {
                int key = keyIndex[j];
                System.arraycopy(a.k, a.kOffset + b * a.kBatchStride + key * a.kRowStride + g * d, kt, j * d, d);
                if (a.qkNorm) {
                    FusedAttention.normalize(kt, j * d, d);
                }
                System.arraycopy(a.v, a.vOffset + b * a.vBatchStride + key * a.vRowStride + g * d, vt, j * d, d);
            }
        }

        /** out = acc / l per row; rows with a masked query or no visible key are zero. */
        void write(Partial st) {
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
                    for (int e = 0; e < d; e++) {
                        a.o[dst + e] = st.accT[e * padded + lane] * inv;
                    }
                }
            }
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
     * {@code s[j][lanes] = sum_e kt[j][e] * qT[e][lb + lanes]} for the block's two lane vectors and keys
     * {@code j < count}; four keys at a time (8 accumulators), one at a time for the rest.
     */
    static void scores(float[] qT, int lb, int stride, float[] kt, int d, int count, float[] s) {
        int j = 0;
        for (; j + 4 <= count; j += 4) {
            FloatVector s00 = FloatVector.zero(S);
            FloatVector s01 = s00;
            FloatVector s10 = s00;
            FloatVector s11 = s00;
            FloatVector s20 = s00;
            FloatVector s21 = s00;
            FloatVector s30 = s00;
            FloatVector s31 = s00;
            int k0 = j * d;
            int k1 = k0 + d;
            int k2 = k1 + d;
            int k3 = k2 + d;
            int qi = lb;
            for (int e = 0; e < d; e++, qi += stride) {
                FloatVector q0 = FloatVector.fromArray(S, qT, qi);
                FloatVector q1 = FloatVector.fromArray(S, qT, qi + L);
                FloatVector k = FloatVector.broadcast(S, kt[k0 + e]);
                s00 = k.fma(q0, s00);
                s01 = k.fma(q1, s01);
                k = FloatVector.broadcast(S, kt[k1 + e]);
                s10 = k.fma(q0, s10);
                s11 = k.fma(q1, s11);
                k = FloatVector.broadcast(S, kt[k2 + e]);
                s20 = k.fma(q0, s20);
                s21 = k.fma(q1, s21);
                k = FloatVector.broadcast(S, kt[k3 + e]);
                s30 = k.fma(q0, s30);
                s31 = k.fma(q1, s31);
            }
            int o = j * BLOCK;
            s00.intoArray(s, o);
            s01.intoArray(s, o + L);
            s10.intoArray(s, o + BLOCK);
            s11.intoArray(s, o + BLOCK + L);
            s20.intoArray(s, o + 2 * BLOCK);
            s21.intoArray(s, o + 2 * BLOCK + L);
            s30.intoArray(s, o + 3 * BLOCK);
            s31.intoArray(s, o + 3 * BLOCK + L);
        }
        for (; j < count; j++) {
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = s0;
            int k0 = j * d;
            int qi = lb;
            for (int e = 0; e < d; e++, qi += stride) {
                FloatVector k = FloatVector.broadcast(S, kt[k0 + e]);
                s0 = k.fma(FloatVector.fromArray(S, qT, qi), s0);
                s1 = k.fma(FloatVector.fromArray(S, qT, qi + L), s1);
            }
            s0.intoArray(s, j * BLOCK);
            s1.intoArray(s, j * BLOCK + L);
        }
    }

    /** {@code s[j][lane] = -inf} where {@code j >= visible[lane]} (the lane's query may not see key j). */
    static void hideInvisible(float[] s, int count, float[] visible) {
        for (int half = 0; half < BLOCK; half += L) {
            FloatVector n = FloatVector.fromArray(S, visible, half);
            for (int j = 0; j < count; j++) {
                FloatVector x = FloatVector.fromArray(S, s, j * BLOCK + half);
                x.blend(Float.NEGATIVE_INFINITY, n.compare(VectorOperators.LE, (float) j)).intoArray(s, j * BLOCK + half);
            }
        }
    }

    /**
     * The online-softmax step of one block over {@code count} keys: replaces the scores by their weights
     * {@code exp(s - m')}, and updates {@code m} and {@code l} of lanes {@code [lb, lb + BLOCK)}; leaves the factor
     * {@code exp(m - m')} for the block's accumulators in {@code correction}.
     */
    static void softmax(float[] s, int count, float[] m, float[] l, int lb, float[] correction) {
        for (int half = 0; half < BLOCK; half += L) {
            FloatVector max = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < count; j++) {
                FloatVector x = FloatVector.fromArray(S, s, j * BLOCK + half);
                max = max.blend(x, max.lt(x));
            }
            FloatVector mOld = FloatVector.fromArray(S, m, lb + half);
            FloatVector mNew = mOld.blend(max, mOld.lt(max));
            // a lane that has seen no visible key yet keeps m = -inf; subtracting 0 instead keeps its weights 0, not NaN
            FloatVector shift = mNew.blend(0f, mNew.eq(Float.NEGATIVE_INFINITY));
            FloatVector sum = FloatVector.zero(S);
            for (int j = 0; j < count; j++) {
                int o = j * BLOCK + half;
                FloatVector p = exp(FloatVector.fromArray(S, s, o).sub(shift));
                p.intoArray(s, o);
                sum = sum.add(p);
            }
            FloatVector c = exp(mOld.sub(shift));
            c.intoArray(correction, half);
            FloatVector.fromArray(S, l, lb + half).mul(c).add(sum).intoArray(l, lb + half);
            mNew.intoArray(m, lb + half);
        }
    }

    /**
     * {@code accT[e][lb + lanes] = c * accT[e][lb + lanes] + sum_j vt[j][e] * p[j][lanes]} for keys {@code j < count},
     * four head elements at a time (8 accumulators), one at a time for the rest.
     */
    static void values(float[] accT, int lb, int stride, float[] p, float[] vt, int d, int count, float[] correction) {
        FloatVector c0 = FloatVector.fromArray(S, correction, 0);
        FloatVector c1 = FloatVector.fromArray(S, correction, L);
        int e = 0;
        for (; e + 4 <= d; e += 4) {
            int o0 = e * stride + lb;
            int o1 = o0 + stride;
            int o2 = o1 + stride;
            int o3 = o2 + stride;
            FloatVector a00 = FloatVector.fromArray(S, accT, o0).mul(c0);
            FloatVector a01 = FloatVector.fromArray(S, accT, o0 + L).mul(c1);
            FloatVector a10 = FloatVector.fromArray(S, accT, o1).mul(c0);
            FloatVector a11 = FloatVector.fromArray(S, accT, o1 + L).mul(c1);
            FloatVector a20 = FloatVector.fromArray(S, accT, o2).mul(c0);
            FloatVector a21 = FloatVector.fromArray(S, accT, o2 + L).mul(c1);
            FloatVector a30 = FloatVector.fromArray(S, accT, o3).mul(c0);
            FloatVector a31 = FloatVector.fromArray(S, accT, o3 + L).mul(c1);
            int vi = e;
            int pi = 0;
            for (int j = 0; j < count; j++, vi += d, pi += BLOCK) {
                FloatVector p0 = FloatVector.fromArray(S, p, pi);
                FloatVector p1 = FloatVector.fromArray(S, p, pi + L);
                FloatVector v = FloatVector.broadcast(S, vt[vi]);
                a00 = v.fma(p0, a00);
                a01 = v.fma(p1, a01);
                v = FloatVector.broadcast(S, vt[vi + 1]);
                a10 = v.fma(p0, a10);
                a11 = v.fma(p1, a11);
                v = FloatVector.broadcast(S, vt[vi + 2]);
                a20 = v.fma(p0, a20);
                a21 = v.fma(p1, a21);
                v = FloatVector.broadcast(S, vt[vi + 3]);
                a30 = v.fma(p0, a30);
                a31 = v.fma(p1, a31);
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
        for (; e < d; e++) {
            int o0 = e * stride + lb;
            FloatVector a0 = FloatVector.fromArray(S, accT, o0).mul(c0);
            FloatVector a1 = FloatVector.fromArray(S, accT, o0 + L).mul(c1);
            int vi = e;
            int pi = 0;
            for (int j = 0; j < count; j++, vi += d, pi += BLOCK) {
                FloatVector v = FloatVector.broadcast(S, vt[vi]);
                a0 = v.fma(FloatVector.fromArray(S, p, pi), a0);
                a1 = v.fma(FloatVector.fromArray(S, p, pi + L), a1);
            }
            a0.intoArray(accT, o0);
            a1.intoArray(accT, o0 + L);
        }
    }

    /**
     * {@code e^x} lane-wise for {@code x <= 0} (or -inf), by {@link FastExp}'s method: {@code x = n ln2 + r} with
     * n rounded by the {@link #SHIFTER} (which also leaves n in the low bits, so {@code 2^n} is one shift and one
     * add in the exponent field), ln2 in two parts so r is exact, {@code e^r} by the degree-6 polynomial (Horner,
     * fused multiply-adds). Below {@link FastExp#UNDERFLOW} the result is 0, as in {@link FastExp#exp}.
     */
    static FloatVector exp(FloatVector x) {
        VectorMask<Float> under = x.lt(FastExp.UNDERFLOW);
        FloatVector xc = x.blend(FastExp.UNDERFLOW, under);
        FloatVector t = xc.fma(FastExp.LOG2E, SHIFTER);
        FloatVector n = t.sub(SHIFTER);
        // n * LN2_HI is exact (7 by 9 significant bits), so multiplying then subtracting rounds once, like an FMA
        FloatVector r = xc.sub(n.mul(FastExp.LN2_HI));
        r = n.fma(FloatVector.broadcast(S, -FastExp.LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(S, FastExp.C6), FloatVector.broadcast(S, FastExp.C5));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C4));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C3));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C2));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C1));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C0));
        // bits(t) = bits(SHIFTER) + n; a left shift by 23 pushes bits(SHIFTER) out of the word (its low 9 bits
        // are zero) and puts n in the exponent field; adding the bias gives 2^n (n >= -126 after the clamp, so a
        // normal float)
        FloatVector pow2 = ((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23)
                .add(127 << 23).reinterpretAsFloats();
        return p.mul(pow2).blend(0f, under);
    }
}
