package dev.mmca.backend.java;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Fused attention for calls of few query rows per kv head, a decoding step's shape (one or two queries times the
 * heads reading each kv head), on the Vector API, reading keys and values straight from their rows (a decoding
 * cache, a projection's output) instead of packing them into {@link KeyPanels}: for such a call the packing
 * copies every key and value of the cache, each step, to use it for a handful of rows, and the blocked kernels of
 * {@link VectorAttention} fill 4 of their 16 lanes. Here the vectors run along the head dimension and each row
 * keeps its own online-softmax state. A work item is a batch element (or a chunk of its keys): it copies the
 * whole rows of a tile of its visible keys, every kv head's k and v, in memory order (a stream the hardware
 * prefetches, where one kv head's slice of each row is 256 bytes every 2 KiB and runs at a third of the speed),
 * then per kv head and per row
 * <pre>
 *   s[j]   = (scale q) . k_j                     (normalised with qk_norm)
 *   m'     = max(m, max_j s[j]);   p[j] = exp(s[j] - m'),   c = exp(m - m')
 *   l      = c l + sum_j p[j];     acc = c acc + sum_j p[j] v_j
 * </pre>
 * over the keys the row may see (a prefix of the tile, visibility being {@code j <= last}); two rows that see the
 * same keys share every load. Calls with fewer than {@link FusedAttention#MIN_ITEMS} batch elements split their
 * keys into chunks merged by {@link FusedAttention.State#merge}, as {@link VectorAttention} does, so the split and
 * every summation order follow from the shapes alone: a score is {@code L} lane-wise chains of fused
 * multiply-adds over the head dimension in vector steps, then the lanes added in lane order ({@link #laneSum});
 * {@code l} and {@code acc} add the visible keys in key order.
 */
final class VectorDirectAttention {
    private static final VectorSpecies<Float> S = VectorKernels.SPECIES;
    private static final int L = S.length();
    /** The most rows (query heads of a kv head times queries) per kv head for this kernel. */
    static final int MAX_ROWS = 8;
    /** Bytes of one tile's copied rows (keys and values of every kv head): about L1. */
    static final int TILE_BYTES = 32 * 1024;

    private VectorDirectAttention() {
    }

    /** Whether this kernel takes the call: whole vectors over the head dimension, and few rows per kv head. */
    static boolean supports(AttentionArgs a) {
        return a.dimHead % L == 0 && (long) (a.heads / a.kvHeads) * a.queries <= MAX_ROWS;
    }

    /** Visible keys per tile: a multiple of 4 from 4 to 64, the tile's rows within {@link #TILE_BYTES}. */
    static int tileKeys(AttentionArgs a) {
        long rowBytes = 2L * a.kvHeads * a.dimHead * Float.BYTES;
        return (int) Math.max(4, Math.min(64, TILE_BYTES / rowBytes / 4 * 4));
    }

    /** See {@link JavaKernels#attention}: returns -1 or the first query row whose scores overflowed float32. */
    static long run(AttentionArgs a) {
        int[][] keys = KeyPanels.visibleKeys(a);
        int tile = tileKeys(a);
        int items = a.batch;
        int chunks = FusedAttention.keyChunks(items, a.keys);
        Item[] all = new Item[items];
        FusedAttention.State[][] partial = new FusedAttention.State[items][chunks];
        Parallel.forEach(items, t -> all[t] = new Item(a, keys, t));
        Parallel.forEach(items * chunks, w -> {
            Item item = all[w / chunks];
            int c = w % chunks;
            partial[w / chunks][c] = item.accumulate(FusedAttention.chunkStart(item.keyEnd, chunks, c, tile),
                    FusedAttention.chunkStart(item.keyEnd, chunks, c + 1, tile), tile);
        });
        FirstIndex bad = new FirstIndex();
        Parallel.forEach(items, t -> {
            FusedAttention.State st = chunks == 1 ? partial[t][0]
                    : FusedAttention.State.merge(partial[t], all[t].rows, a.dimHead);
            bad.report(all[t].firstOverflow(st));
            all[t].write(st);
        });
        return bad.get();
    }

    /**
     * The rows of batch element b: row {@code (g * groupSize + hi) * queries + i} is query i of the hi-th head
     * reading kv head g ({@link AttentionArgs#queryHeads}), so each kv head's rows are consecutive.
     */
    private static final class Item {
        final AttentionArgs a;
        final int b;
        final int d;
        final int groupSize;
        final int rows;
        final int[][] qHeads;
        /** The batch element's visible keys, in key order. */
        final int[] keys;
        /** {@code (scale q)} per row, {@code [rows][d]}. */
        final float[] q;
        final boolean[] active;
        /** The last key index the row's query may see (-1: none). */
        final int[] last;
        /** How many of {@link #keys} some active row may see. */
        final int keyEnd;
        /** The element's first visible key: an active row with last >= it sees a key. */
        final int firstKey;

        Item(AttentionArgs a, int[][] visible, int b) {
            this.a = a;
            this.b = b;
            this.d = a.dimHead;
            this.groupSize = a.heads / a.kvHeads;
            this.rows = a.heads * a.queries;
            this.keys = visible[b];
            qHeads = new int[a.kvHeads][];
            q = new float[rows * d];
            active = new boolean[rows];
            last = new int[rows];
            int end = 0;
            for (int g = 0; g < a.kvHeads; g++) {
                qHeads[g] = a.queryHeads(g);
                for (int hi = 0; hi < groupSize; hi++) {
                    for (int i = 0; i < a.queries; i++) {
                        int row = (g * groupSize + hi) * a.queries + i;
                        last[row] = a.lastVisibleKey(b, i);
                        active[row] = a.queryActive(b, i, last[row]);
                        if (active[row]) {
                            end = Math.max(end, last[row] + 1);
                        }
                        int at = row * d;
                        System.arraycopy(a.q, a.qOffset + b * a.qBatchStride + i * a.qRowStride + qHeads[g][hi] * d,
                                q, at, d);
                        if (a.qkNorm) {
                            FusedAttention.normalize(q, at, d);
                        }
                        for (int e = 0; e < d; e++) {
                            q[at + e] *= a.scale;
                        }
                    }
                }
            }
            int seen = java.util.Arrays.binarySearch(keys, end);
            keyEnd = seen >= 0 ? seen : -seen - 1;
            firstKey = keys.length > 0 ? keys[0] : Integer.MAX_VALUE;
        }

        /** The state of every row over the visible keys {@code keys[from, to)}, tiles of {@code tile} keys. */
        FusedAttention.State accumulate(int from, int to, int tile) {
            FusedAttention.State st = new FusedAttention.State(rows, d);
            // tile row j: every kv head's key (or value), kv head g at j * gd + g * d
            int gd = a.kvHeads * d;
            float[] kt = new float[tile * gd];
            float[] vt = new float[tile * gd];
            float[] s = new float[tile];
            float[] s2 = new float[tile];
            int[] seen = new int[rows];
            float[] lanes = new float[L];
            for (int t0 = from; t0 < to; t0 += tile) {
                int width = Math.min(tile, to - t0);
                for (int j = 0; j < width; j++) {
                    int key = keys[t0 + j];
                    System.arraycopy(a.k, a.kOffset + b * a.kBatchStride + key * a.kRowStride, kt, j * gd, gd);
                    System.arraycopy(a.v, a.vOffset + b * a.vBatchStride + key * a.vRowStride, vt, j * gd, gd);
                    if (a.qkNorm) {
                        for (int g = 0; g < a.kvHeads; g++) {
                            FusedAttention.normalize(kt, j * gd + g * d, d);
                        }
                    }
                }
                // the keys each row sees: a prefix of the tile (0 for an inactive row)
                for (int row = 0; row < rows; row++) {
                    int n = active[row] ? width : 0;
                    while (n > 0 && keys[t0 + n - 1] > last[row]) {
                        n--;
                    }
                    seen[row] = n;
                }
                for (int g = 0; g < a.kvHeads; g++) {
                    // the kv head's rows two at a time where two see the same keys (every head of a query does),
                    // sharing each key and value load; a row's results do not depend on its partner
                    int r1 = (g + 1) * groupSize * a.queries;
                    for (int row = g * groupSize * a.queries; row < r1; row++) {
                        int n = seen[row];
                        if (n == 0) {
                            continue;
                        }
                        int partner = row + 1;
                        while (partner < r1 && seen[partner] != n) {
                            partner++;
                        }
                        int ko = g * d;
                        if (partner == r1) {
                            scores(q, row * d, kt, ko, gd, d, n, s, lanes);
                            float c = step(st, row, s, n, lanes);
                            values(st.acc[row], c, s, n, vt, ko, gd, d);
                            continue;
                        }
                        scores2(q, row * d, partner * d, kt, ko, gd, d, n, s, s2, lanes);
                        float c = step(st, row, s, n, lanes);
                        float c2 = step(st, partner, s2, n, lanes);
                        values2(st.acc[row], st.acc[partner], c, c2, s, s2, n, vt, ko, gd, d);
                        seen[partner] = 0;
                    }
                }
            }
            return st;
        }

        /**
         * The online-softmax step of one row over the {@code n} scores in {@code s}: updates its m and l, turns the
         * scores into weights {@code exp(s - m')} and returns the factor {@code exp(m - m')} for its accumulator.
         */
        private static float step(FusedAttention.State st, int row, float[] s, int n, float[] lanes) {
            float mOld = st.m[row];
            float mNew = Math.max(mOld, max(s, n));
            st.m[row] = mNew;
            // a row whose scores so far are all -inf keeps m = -inf; subtracting 0 keeps its weights 0
            float shift = mNew == Float.NEGATIVE_INFINITY ? 0f : mNew;
            float c = FastExp.exp(mOld - shift);
            st.l[row] = c * st.l[row] + weights(s, n, shift, lanes);
            return c;
        }

        /** {@code b * queries + i} of the first active row whose scores overflowed, or -1 (see {@link VectorAttention}). */
        long firstOverflow(FusedAttention.State st) {
            long first = -1;
            for (int row = 0; row < rows; row++) {
                long at = (long) b * a.queries + row % a.queries;
                if (active[row] && (first < 0 || at < first)
                        && FusedAttention.overflowed(last[row] >= firstKey, st.m[row], st.l[row])) {
                    first = at;
                }
            }
            return first;
        }

        /** out = acc / l per row; a masked query's row, or one without keys, is 0. */
        void write(FusedAttention.State st) {
            for (int g = 0; g < a.kvHeads; g++) {
                for (int hi = 0; hi < groupSize; hi++) {
                    for (int i = 0; i < a.queries; i++) {
                        int row = (g * groupSize + hi) * a.queries + i;
                        int dst = a.oOffset + b * a.oBatchStride + i * a.oRowStride + qHeads[g][hi] * d;
                        if (!active[row] || st.l[row] == 0f) {
                            java.util.Arrays.fill(a.o, dst, dst + d, 0f);
                            continue;
                        }
                        float inv = 1f / st.l[row];
                        float[] acc = st.acc[row];
                        for (int e = 0; e < d; e++) {
                            a.o[dst + e] = acc[e] * inv;
                        }
                    }
                }
            }
        }
    }

    /*
     * The kernels below take only arrays and ints and call nothing but the Vector API (see VectorAttention), and
     * keep their vectors in named locals.
     */

    /**
     * {@code s[j] = q[qo, qo + d) . k_j} for the first {@code n} keys of the tile {@code kt}, key j at
     * {@code kt[j * stride + ko ..]}.
     */
    static void scores(float[] q, int qo, float[] kt, int ko, int stride, int d, int n, float[] s, float[] lanes) {
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            FloatVector s0 = FloatVector.zero(S);
            FloatVector s1 = s0;
            FloatVector s2 = s0;
            FloatVector s3 = s0;
            int k0 = j * stride + ko;
            for (int e = 0; e < d; e += L) {
                FloatVector qv = FloatVector.fromArray(S, q, qo + e);
                s0 = FloatVector.fromArray(S, kt, k0 + e).fma(qv, s0);
                s1 = FloatVector.fromArray(S, kt, k0 + stride + e).fma(qv, s1);
                s2 = FloatVector.fromArray(S, kt, k0 + 2 * stride + e).fma(qv, s2);
                s3 = FloatVector.fromArray(S, kt, k0 + 3 * stride + e).fma(qv, s3);
            }
            s0.intoArray(lanes, 0);
            s[j] = laneSum(lanes);
            s1.intoArray(lanes, 0);
            s[j + 1] = laneSum(lanes);
            s2.intoArray(lanes, 0);
            s[j + 2] = laneSum(lanes);
            s3.intoArray(lanes, 0);
            s[j + 3] = laneSum(lanes);
        }
        for (; j < n; j++) {
            FloatVector s0 = FloatVector.zero(S);
            int k0 = j * stride + ko;
            for (int e = 0; e < d; e += L) {
                s0 = FloatVector.fromArray(S, kt, k0 + e).fma(FloatVector.fromArray(S, q, qo + e), s0);
            }
            s0.intoArray(lanes, 0);
            s[j] = laneSum(lanes);
        }
    }

    /** {@link #scores} for two rows at once, their queries at {@code qa} and {@code qb}, into {@code sa} and {@code sb}. */
    static void scores2(float[] q, int qa, int qb, float[] kt, int ko, int stride, int d, int n, float[] sa,
            float[] sb, float[] lanes) {
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            FloatVector b0 = a0;
            FloatVector b1 = a0;
            FloatVector b2 = a0;
            FloatVector b3 = a0;
            int k0 = j * stride + ko;
            for (int e = 0; e < d; e += L) {
                FloatVector qav = FloatVector.fromArray(S, q, qa + e);
                FloatVector qbv = FloatVector.fromArray(S, q, qb + e);
                FloatVector k = FloatVector.fromArray(S, kt, k0 + e);
                a0 = k.fma(qav, a0);
                b0 = k.fma(qbv, b0);
                k = FloatVector.fromArray(S, kt, k0 + stride + e);
                a1 = k.fma(qav, a1);
                b1 = k.fma(qbv, b1);
                k = FloatVector.fromArray(S, kt, k0 + 2 * stride + e);
                a2 = k.fma(qav, a2);
                b2 = k.fma(qbv, b2);
                k = FloatVector.fromArray(S, kt, k0 + 3 * stride + e);
                a3 = k.fma(qav, a3);
                b3 = k.fma(qbv, b3);
            }
            a0.intoArray(lanes, 0);
            sa[j] = laneSum(lanes);
            a1.intoArray(lanes, 0);
            sa[j + 1] = laneSum(lanes);
            a2.intoArray(lanes, 0);
            sa[j + 2] = laneSum(lanes);
            a3.intoArray(lanes, 0);
            sa[j + 3] = laneSum(lanes);
            b0.intoArray(lanes, 0);
            sb[j] = laneSum(lanes);
            b1.intoArray(lanes, 0);
            sb[j + 1] = laneSum(lanes);
            b2.intoArray(lanes, 0);
            sb[j + 2] = laneSum(lanes);
            b3.intoArray(lanes, 0);
            sb[j + 3] = laneSum(lanes);
        }
        for (; j < n; j++) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector b0 = a0;
            int k0 = j * stride + ko;
            for (int e = 0; e < d; e += L) {
                FloatVector k = FloatVector.fromArray(S, kt, k0 + e);
                a0 = k.fma(FloatVector.fromArray(S, q, qa + e), a0);
                b0 = k.fma(FloatVector.fromArray(S, q, qb + e), b0);
            }
            a0.intoArray(lanes, 0);
            sa[j] = laneSum(lanes);
            b0.intoArray(lanes, 0);
            sb[j] = laneSum(lanes);
        }
    }

    /**
     * The sum of a vector stored in {@code lanes}, lane 0 first. Not {@code reduceLanes(ADD)}: the Vector API
     * leaves its order open and says it may vary over time, so the same call could give other bits once compiled.
     */
    static float laneSum(float[] lanes) {
        float total = 0f;
        for (int i = 0; i < L; i++) {
            total += lanes[i];
        }
        return total;
    }

    /** {@code max_j s[j]} over {@code [0, n)} (NaN if a score is NaN, as {@link Math#max}). */
    static float max(float[] s, int n) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            m = Math.max(m, s[j]);
        }
        return m;
    }

    /**
     * {@code s[j] = exp(s[j] - shift)} over {@code [0, n)}, returning their sum (lane-wise in vector steps, then
     * the lanes, then the tail in order): {@link VectorAttention#weights}'s method on one row, the tail by
     * {@link FastExp#exp}.
     */
    static float weights(float[] s, int n, float shift, float[] lanes) {
        FloatVector sh = FloatVector.broadcast(S, shift);
        FloatVector log2e = FloatVector.broadcast(S, FastExp.LOG2E);
        FloatVector shifter = FloatVector.broadcast(S, VectorAttention.SHIFTER);
        FloatVector ln2Hi = FloatVector.broadcast(S, -FastExp.LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, -FastExp.LN2_LO);
        FloatVector c0 = FloatVector.broadcast(S, FastExp.C0);
        FloatVector c1 = FloatVector.broadcast(S, FastExp.C1);
        FloatVector c2 = FloatVector.broadcast(S, FastExp.C2);
        FloatVector c3 = FloatVector.broadcast(S, FastExp.C3);
        FloatVector c4 = FloatVector.broadcast(S, FastExp.C4);
        FloatVector c5 = FloatVector.broadcast(S, FastExp.C5);
        FloatVector c6 = FloatVector.broadcast(S, FastExp.C6);
        FloatVector sum = FloatVector.zero(S);
        int j = 0;
        for (; j + L <= n; j += L) {
            FloatVector x = FloatVector.fromArray(S, s, j).sub(sh);
            VectorMask<Float> under = x.lt(FastExp.UNDERFLOW);
            FloatVector t = x.fma(log2e, shifter);
            FloatVector nn = t.sub(shifter);
            FloatVector r = nn.fma(ln2Lo, nn.fma(ln2Hi, x));
            FloatVector rr = r.mul(r);
            FloatVector lo = rr.fma(r.fma(c3, c2), r.fma(c1, c0));
            FloatVector hi = rr.fma(c6, r.fma(c5, c4));
            FloatVector p = rr.mul(rr).fma(hi, lo)
                    .mul(((IntVector) t.reinterpretAsInts()).lanewise(VectorOperators.LSHL, 23)
                            .add(127 << 23).reinterpretAsFloats())
                    .blend(0f, under);
            p.intoArray(s, j);
            sum = sum.add(p);
        }
        sum.intoArray(lanes, 0);
        float total = laneSum(lanes);
        for (; j < n; j++) {
            s[j] = FastExp.exp(s[j] - shift);
            total += s[j];
        }
        return total;
    }

    /**
     * {@code acc = c acc + sum_j p[j] v_j} over the first {@code n} values of the tile {@code vt}, value j at
     * {@code vt[j * stride + vo ..]}: four vectors of the head dimension at a time, then one.
     */
    static void values(float[] acc, float c, float[] p, int n, float[] vt, int vo, int stride, int d) {
        FloatVector cv = FloatVector.broadcast(S, c);
        int e = 0;
        for (; e + 4 * L <= d; e += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(S, acc, e).mul(cv);
            FloatVector a1 = FloatVector.fromArray(S, acc, e + L).mul(cv);
            FloatVector a2 = FloatVector.fromArray(S, acc, e + 2 * L).mul(cv);
            FloatVector a3 = FloatVector.fromArray(S, acc, e + 3 * L).mul(cv);
            for (int j = 0; j < n; j++) {
                FloatVector pj = FloatVector.broadcast(S, p[j]);
                int vi = j * stride + vo + e;
                a0 = FloatVector.fromArray(S, vt, vi).fma(pj, a0);
                a1 = FloatVector.fromArray(S, vt, vi + L).fma(pj, a1);
                a2 = FloatVector.fromArray(S, vt, vi + 2 * L).fma(pj, a2);
                a3 = FloatVector.fromArray(S, vt, vi + 3 * L).fma(pj, a3);
            }
            a0.intoArray(acc, e);
            a1.intoArray(acc, e + L);
            a2.intoArray(acc, e + 2 * L);
            a3.intoArray(acc, e + 3 * L);
        }
        for (; e < d; e += L) {
            FloatVector a0 = FloatVector.fromArray(S, acc, e).mul(cv);
            for (int j = 0; j < n; j++) {
                a0 = FloatVector.fromArray(S, vt, j * stride + vo + e).fma(FloatVector.broadcast(S, p[j]), a0);
            }
            a0.intoArray(acc, e);
        }
    }

    /** {@link #values} for two rows at once, sharing each value load. */
    static void values2(float[] accA, float[] accB, float ca, float cb, float[] pa, float[] pb, int n, float[] vt,
            int vo, int stride, int d) {
        FloatVector cav = FloatVector.broadcast(S, ca);
        FloatVector cbv = FloatVector.broadcast(S, cb);
        int e = 0;
        for (; e + 4 * L <= d; e += 4 * L) {
            FloatVector a0 = FloatVector.fromArray(S, accA, e).mul(cav);
            FloatVector a1 = FloatVector.fromArray(S, accA, e + L).mul(cav);
            FloatVector a2 = FloatVector.fromArray(S, accA, e + 2 * L).mul(cav);
            FloatVector a3 = FloatVector.fromArray(S, accA, e + 3 * L).mul(cav);
            FloatVector b0 = FloatVector.fromArray(S, accB, e).mul(cbv);
            FloatVector b1 = FloatVector.fromArray(S, accB, e + L).mul(cbv);
            FloatVector b2 = FloatVector.fromArray(S, accB, e + 2 * L).mul(cbv);
            FloatVector b3 = FloatVector.fromArray(S, accB, e + 3 * L).mul(cbv);
            for (int j = 0; j < n; j++) {
                FloatVector paj = FloatVector.broadcast(S, pa[j]);
                FloatVector pbj = FloatVector.broadcast(S, pb[j]);
                int vi = j * stride + vo + e;
                FloatVector x = FloatVector.fromArray(S, vt, vi);
                a0 = x.fma(paj, a0);
                b0 = x.fma(pbj, b0);
                x = FloatVector.fromArray(S, vt, vi + L);
                a1 = x.fma(paj, a1);
                b1 = x.fma(pbj, b1);
                x = FloatVector.fromArray(S, vt, vi + 2 * L);
                a2 = x.fma(paj, a2);
                b2 = x.fma(pbj, b2);
                x = FloatVector.fromArray(S, vt, vi + 3 * L);
                a3 = x.fma(paj, a3);
                b3 = x.fma(pbj, b3);
            }
            a0.intoArray(accA, e);
            a1.intoArray(accA, e + L);
            a2.intoArray(accA, e + 2 * L);
            a3.intoArray(accA, e + 3 * L);
            b0.intoArray(accB, e);
            b1.intoArray(accB, e + L);
            b2.intoArray(accB, e + 2 * L);
            b3.intoArray(accB, e + 3 * L);
        }
        for (; e < d; e += L) {
            FloatVector a0 = FloatVector.fromArray(S, accA, e).mul(cav);
            FloatVector b0 = FloatVector.fromArray(S, accB, e).mul(cbv);
            for (int j = 0; j < n; j++) {
                FloatVector x = FloatVector.fromArray(S, vt, j * stride + vo + e);
                a0 = x.fma(FloatVector.broadcast(S, pa[j]), a0);
                b0 = x.fma(FloatVector.broadcast(S, pb[j]), b0);
            }
            a0.intoArray(accA, e);
            b0.intoArray(accB, e);
        }
    }
}
