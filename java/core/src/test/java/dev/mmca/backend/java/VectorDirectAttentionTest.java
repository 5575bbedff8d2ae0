package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmca.HeadMapping;
import dev.mmca.parity.Precision;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Vector API attention kernel for decoding-shaped calls ({@link VectorDirectAttention}), on its own: random
 * calls of its shapes (odd head sizes, one to eight rows per kv head, caches shorter and longer than a tile,
 * batches that split their keys into chunks and batches that do not, key masks, key lengths, causal positions,
 * masked queries, qk_norm, rows wider than the keys, both head mappings) against a naive float64 attention, and
 * against the packed-panel kernel.
 */
class VectorDirectAttentionTest {
    /** Floats per vector of the Vector API kernels; the tests skip (assume) without the module. */
    private static int lanes() {
        assumeTrue(KernelSelection.vectorModule().isPresent(), "needs --add-modules jdk.incubator.vector");
        return KernelSelection.vectorKernelsIfPresent().orElseThrow().vectorBits() / Float.SIZE;
    }

    static Stream<Long> seeds() {
        return LongStream.range(0, 48).boxed();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void matchesFloat64AndThePanelKernel(long seed) {
        AttentionArgs a = randomCall(seed);
        assertTrue(VectorDirectAttention.supports(a), describe(a));
        double[] ref = reference(a);
        float[] direct = run(a, VectorDirectAttention::run);
        float[] panels = run(a, VectorAttention::run);
        double err = relativeError(direct, ref);
        assertTrue(err <= Precision.FP32.relativeTolerance(), describe(a) + ": relative error " + err);
        double apart = relativeError(direct, toDouble(panels));
        assertTrue(apart <= Precision.FP32.relativeTolerance(), describe(a) + ": differs from the panels by " + apart);
    }

    @Test
    void takesOnlyWholeVectorsAndFewRowsPerKvHead() {
        int lanes = lanes();
        AttentionArgs a = randomCall(3);
        a.dimHead = 8 * lanes;
        a.heads = 16;
        a.kvHeads = 4;
        a.queries = 2;
        assertTrue(VectorDirectAttention.supports(a), "4 heads x 2 queries per kv head");
        a.queries = 3;
        assertFalse(VectorDirectAttention.supports(a), "4 heads x 3 queries per kv head");
        a.queries = 1;
        a.dimHead = 8 * lanes + 1;
        assertFalse(VectorDirectAttention.supports(a), "a head size that is not whole vectors");
    }

    @Test
    void resultsAreBitIdenticalForEveryThreadCount() {
        for (long seed : new long[] {1, 2, 5}) {
            AttentionArgs a = randomCall(seed);
            float[] one = onThreads(1, a);
            for (int threads : new int[] {2, 3}) {
                assertArrayEquals(one, onThreads(threads, a), describe(a) + ", " + threads + " threads");
            }
        }
    }

    /**
     * A call's bits do not change over the JVM's life, while the kernel runs interpreted first and compiled later:
     * 3000 calls give the first call's bits. (The kernel adds a vector's lanes itself, in lane order: the Vector
     * API leaves the order of {@code reduceLanes(ADD)} open, and says it may vary over time.)
     */
    @Test
    void resultsDoNotChangeOnceTheKernelIsCompiled() {
        // a decoding step as a cache holds it: 8 heads per kv head, 600 keys in 10 tiles, head size of 8 vectors
        AttentionArgs a = randomCall(24);
        a.batch = 1;
        a.heads = 16;
        a.kvHeads = 2;
        a.queries = 1;
        a.dimHead = 8 * lanes();
        a.keys = 600;
        a.causal = false;
        a.keyMask = null;
        a.keyLengths = null;
        a.queryPositions = null;
        a.queryMask = null;
        int d = a.dimHead;
        SplittableRandom r = new SplittableRandom(5);
        a.q = normal(r, a.heads * d);
        a.k = normal(r, a.keys * 2 * a.kvHeads * d);
        a.v = a.k;
        a.qOffset = a.kOffset = a.oOffset = 0;
        a.vOffset = a.kvHeads * d;
        a.qRowStride = a.qBatchStride = a.oRowStride = a.oBatchStride = a.heads * d;
        a.kRowStride = a.vRowStride = 2 * a.kvHeads * d;
        a.kBatchStride = a.vBatchStride = a.keys * a.kRowStride;
        a.o = new float[a.heads * d];
        float[] first = run(a, VectorDirectAttention::run);
        for (int i = 0; i < 3000; i++) {
            assertArrayEquals(first, run(a, VectorDirectAttention::run), describe(a) + ", call " + (i + 2));
        }
    }

    @Test
    void reportsTheFirstOverflowedQueryAsTheScalarKernelDoes() {
        AttentionArgs a = randomCall(7);
        a.qkNorm = false;
        a.queryMask = null;
        a.keyMask = null;
        a.keyLengths = null;
        a.causal = false;
        // a huge query in batch element 1 and its last query: every score of those rows overflows float32
        int b = Math.min(1, a.batch - 1);
        int i = a.queries - 1;
        Arrays.fill(a.q, a.qOffset + b * a.qBatchStride + i * a.qRowStride,
                a.qOffset + b * a.qBatchStride + i * a.qRowStride + a.heads * a.dimHead, Float.MAX_VALUE / 2);
        long expected = FusedAttention.run(a);
        assertTrue(expected >= 0, "the scalar kernel reports the row");
        assertEquals(expected, VectorDirectAttention.run(a), describe(a));
    }

    private static float[] onThreads(int threads, AttentionArgs a) {
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            float[][] out = new float[1][];
            Parallel.withPool(pool, () -> out[0] = run(a, VectorDirectAttention::run));
            return out[0];
        } finally {
            pool.shutdown();
        }
    }

    private static float[] run(AttentionArgs a, java.util.function.ToLongFunction<AttentionArgs> kernel) {
        Arrays.fill(a.o, Float.NaN);
        assertEquals(-1, kernel.applyAsLong(a), describe(a) + ": no overflow");
        float[] out = new float[a.batch * a.queries * a.heads * a.dimHead];
        for (int b = 0; b < a.batch; b++) {
            for (int i = 0; i < a.queries; i++) {
                System.arraycopy(a.o, a.oOffset + b * a.oBatchStride + i * a.oRowStride, out,
                        (b * a.queries + i) * a.heads * a.dimHead, a.heads * a.dimHead);
            }
        }
        return out;
    }

    /** A random call of the kernel's shapes: per kv head at most 8 rows, head size whole vectors. */
    static AttentionArgs randomCall(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        AttentionArgs a = new AttentionArgs();
        a.batch = new int[] {1, 2, 3, 17}[r.nextInt(4)];
        a.kvHeads = new int[] {1, 2, 3, 4, 8}[r.nextInt(5)];
        int groupSize = new int[] {1, 2, 4, 8}[r.nextInt(4)];
        a.heads = a.kvHeads * groupSize;
        a.queries = 1 + r.nextInt(Math.max(1, 8 / groupSize));
        a.dimHead = lanes() * new int[] {1, 2, 3, 8, 9, 16}[r.nextInt(6)];
        a.keys = new int[] {1, 5, 63, 64, 65, 300, 1100}[r.nextInt(7)];
        a.scale = (float) (1 / Math.sqrt(a.dimHead));
        a.causal = r.nextBoolean();
        a.qkNorm = r.nextInt(4) == 0;
        a.headMapping = r.nextBoolean() ? HeadMapping.GROUPED : HeadMapping.MODULO;
        int d = a.dimHead;
        // q, k and v rows wider than their heads and offset into their arrays, as in a packed projection
        int qRow = a.heads * d + 5;
        int kvRow = 2 * a.kvHeads * d + 3;
        a.q = normal(r, 7 + a.batch * a.queries * qRow);
        a.k = normal(r, 9 + a.batch * a.keys * kvRow);
        a.v = a.k;
        a.qOffset = 7;
        a.qRowStride = qRow;
        a.qBatchStride = a.queries * qRow;
        a.kOffset = 9;
        a.vOffset = 9 + a.kvHeads * d;
        a.kRowStride = a.vRowStride = kvRow;
        a.kBatchStride = a.vBatchStride = a.keys * kvRow;
        a.o = new float[3 + a.batch * a.queries * a.heads * d];
        a.oOffset = 3;
        a.oRowStride = a.heads * d;
        a.oBatchStride = a.queries * a.heads * d;
        if (r.nextInt(3) == 0) {
            a.keyMask = new byte[a.batch * a.keys];
            for (int j = 0; j < a.keyMask.length; j++) {
                a.keyMask[j] = (byte) (r.nextDouble() < 0.7 ? 1 : 0);
            }
        }
        if (r.nextBoolean()) {
            a.keyLengths = new int[a.batch];
            for (int b = 0; b < a.batch; b++) {
                a.keyLengths[b] = b == 1 ? a.keys + 3 : r.nextInt(a.keys + 1);
            }
        }
        if (a.causal && r.nextBoolean()) {
            a.queryPositions = new int[a.batch * a.queries];
            a.queryPositionsBatchStride = a.queries;
            for (int b = 0; b < a.batch; b++) {
                for (int i = 0; i < a.queries; i++) {
                    a.queryPositions[b * a.queries + i] = b == 2 && i == 0 ? -1 : a.keyLength(b) - a.queries + i;
                }
            }
        }
        if (r.nextInt(3) == 0) {
            a.queryMask = new byte[a.batch * a.queries];
            for (int j = 0; j < a.queryMask.length; j++) {
                a.queryMask[j] = (byte) (r.nextDouble() < 0.8 ? 1 : 0);
            }
        }
        return a;
    }

    /** Naive float64 attention over the call's visible keys, row by row, as SPEC states it; 0 for a row without any. */
    static double[] reference(AttentionArgs a) {
        int d = a.dimHead;
        double[] out = new double[a.batch * a.queries * a.heads * d];
        for (int b = 0; b < a.batch; b++) {
            for (int i = 0; i < a.queries; i++) {
                if (a.queryMask != null && a.queryMask[b * a.queries + i] == 0) {
                    continue;
                }
                long lastKey = a.keyLength(b) - 1;
                if (a.causal) {
                    lastKey = Math.min(lastKey, a.queryPositions != null
                            ? a.queryPositions[b * a.queryPositionsBatchStride + i] : (long) i + a.keys - a.queries);
                }
                for (int h = 0; h < a.heads; h++) {
                    int g = a.headMapping.kvHeadOf(h, a.heads, a.kvHeads);
                    double[] q = row(a.q, a.qOffset + b * a.qBatchStride + i * a.qRowStride + h * d, d, a.qkNorm);
                    double[] s = new double[a.keys];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= lastKey; j++) {
                        if (a.keyMask != null && a.keyMask[b * a.keys + j] == 0) {
                            continue;
                        }
                        double[] k = row(a.k, a.kOffset + b * a.kBatchStride + j * a.kRowStride + g * d, d, a.qkNorm);
                        double dot = 0;
                        for (int e = 0; e < d; e++) {
                            dot += q[e] * k[e];
                        }
                        s[j] = dot * a.scale;
                        max = Math.max(max, s[j]);
                    }
                    if (max == Double.NEGATIVE_INFINITY) {
                        continue;
                    }
                    double sum = 0;
                    double[] acc = new double[d];
                    for (int j = 0; j <= lastKey; j++) {
                        if (a.keyMask != null && a.keyMask[b * a.keys + j] == 0) {
                            continue;
                        }
                        double p = Math.exp(s[j] - max);
                        sum += p;
                        int v = a.vOffset + b * a.vBatchStride + j * a.vRowStride + g * d;
                        for (int e = 0; e < d; e++) {
                            acc[e] += p * a.v[v + e];
                        }
                    }
                    int o = ((b * a.queries + i) * a.heads + h) * d;
                    for (int e = 0; e < d; e++) {
                        out[o + e] = acc[e] / sum;
                    }
                }
            }
        }
        return out;
    }

    private static double[] row(float[] x, int at, int d, boolean normalise) {
        double[] r = new double[d];
        double ss = 0;
        for (int e = 0; e < d; e++) {
            r[e] = x[at + e];
            ss += r[e] * r[e];
        }
        if (normalise) {
            double n = Math.max(Math.sqrt(ss), 1e-12);
            for (int e = 0; e < d; e++) {
                r[e] /= n;
            }
        }
        return r;
    }

    /** max |out - ref| over max |ref| (the error when ref is all zero); NaN anywhere fails. */
    private static double relativeError(float[] out, double[] ref) {
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < ref.length; i++) {
            double e = Math.abs(out[i] - ref[i]);
            if (Double.isNaN(e)) {
                return Double.NaN;
            }
            diff = Math.max(diff, e);
            scale = Math.max(scale, Math.abs(ref[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }

    private static double[] toDouble(float[] x) {
        double[] r = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = x[i];
        }
        return r;
    }

    private static float[] normal(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian());
        }
        return x;
    }

    private static String describe(AttentionArgs a) {
        return "B=" + a.batch + " H=" + a.heads + " G=" + a.kvHeads + " N=" + a.queries + " M=" + a.keys + " D="
                + a.dimHead + (a.causal ? " causal" : "") + (a.qkNorm ? " qkNorm" : "")
                + (a.keyMask != null ? " keyMask" : "") + (a.keyLengths != null ? " keyLengths" : "")
                + (a.queryPositions != null ? " positions" : "") + (a.queryMask != null ? " queryMask" : "")
                + " " + a.headMapping;
    }
}
