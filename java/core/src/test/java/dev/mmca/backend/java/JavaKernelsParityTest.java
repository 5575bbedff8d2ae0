package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.plan.AttentionCallPlan;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.PlanIo;
import dev.mmca.testing.RandomInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Java kernel set (scalar, and Vector API when the module is present) against the float64 reference and
 * against each other, on sizes chosen to leave tails: head widths that are not a multiple of the vector length
 * or of the kernels' 4-wide steps, query rows that do not fill a block of lanes or a query tile, key counts
 * around the key tiles, every kv-head ratio, masks, causal, qk_norm, and one-query calls that split their keys.
 * Also: bits independent of the thread count, and of where a GEMM row sits in its call.
 */
class JavaKernelsParityTest {
    static final double TOLERANCE = Precision.FP32.relativeTolerance();

    /** One attention case: a problem and its seed. */
    record AttentionCase(String name, AttentionProblem problem, long seed) {
        @Override
        public String toString() {
            return name + " " + problem;
        }
    }

    static List<AttentionCase> attentionCases() {
        List<AttentionCase> cases = new ArrayList<>();
        // hand-picked tails: D below and around the vector length, lanes around a block (16 or 32) and a query
        // tile (32 rows), keys around a key tile (64) and the 4-key step
        int[][] shapes = {
            // B, H, G, N, M, D
            {1, 1, 1, 1, 1, 1},
            {1, 2, 1, 3, 5, 3},
            {2, 4, 2, 7, 9, 5},
            {1, 3, 3, 17, 63, 7},
            {2, 8, 2, 33, 65, 9},
            {1, 6, 3, 15, 130, 13},
            {1, 4, 4, 16, 64, 16},
            {3, 2, 2, 31, 67, 17},
            {1, 12, 4, 5, 300, 33},
            {2, 8, 1, 40, 41, 64},
            {1, 4, 2, 20, 257, 80},
        };
        long seed = 1;
        for (int[] s : shapes) {
            for (boolean causal : new boolean[] {false, true}) {
                AttentionProblem p = AttentionProblem.builder().batch(s[0]).heads(s[1]).kvHeads(s[2]).queries(s[3])
                        .keys(s[4]).dimHead(s[5]).causal(causal)
                        .headMapping(seed % 2 == 0 ? HeadMapping.MODULO : HeadMapping.GROUPED)
                        .keyMask(seed % 3 == 0 ? RandomInputs.scattered(seed, s[0], s[4], 0.7) : null)
                        .queryMask(seed % 4 == 1 ? RandomInputs.randomLengths(seed + 1, s[0], s[3], 0) : null)
                        .qkNorm(seed % 5 == 2).build();
                cases.add(new AttentionCase("tails-" + Arrays.toString(s), p, seed++));
            }
        }
        // one query over many keys: too few work items, so the keys split into chunks that are merged
        cases.add(new AttentionCase("split-one-query", AttentionProblem.builder().batch(1).heads(4).kvHeads(1)
                .queries(1).keys(1000).dimHead(24).build(), 100));
        cases.add(new AttentionCase("split-two-queries-masked", AttentionProblem.builder().batch(2).heads(8)
                .kvHeads(2).queries(2).keys(777).dimHead(64).causal(true)
                .keyMask(RandomInputs.scattered(101, 2, 777, 0.5)).build(), 101));
        // an element whose keys are all masked: its rows are zero
        boolean[] none = new boolean[2 * 20];
        Arrays.fill(none, 0, 20, true);
        cases.add(new AttentionCase("element-without-keys", AttentionProblem.builder().batch(2).heads(4).kvHeads(2)
                .queries(9).keys(20).dimHead(8).keyMask(Mask.of(none, 2, 20)).build(), 102));
        SplittableRandom r = new SplittableRandom(14);
        int[] headChoices = {1, 2, 3, 4, 6, 8, 12, 16};
        for (int n = 0; n < 24; n++) {
            int heads = headChoices[r.nextInt(headChoices.length)];
            List<Integer> divisors = new ArrayList<>();
            for (int g = 1; g <= heads; g++) {
                if (heads % g == 0) {
                    divisors.add(g);
                }
            }
            int b = 1 + r.nextInt(3);
            int nq = 1 + r.nextInt(50);
            int m = 1 + r.nextInt(200);
            AttentionProblem p = AttentionProblem.builder().batch(b).heads(heads)
                    .kvHeads(divisors.get(r.nextInt(divisors.size()))).queries(nq).keys(m)
                    .dimHead(1 + r.nextInt(70)).causal(r.nextBoolean()).qkNorm(r.nextInt(4) == 0)
                    .headMapping(r.nextBoolean() ? HeadMapping.MODULO : HeadMapping.GROUPED)
                    .keyMask(r.nextInt(3) == 0 ? RandomInputs.scattered(r.nextLong(), b, m, 0.6) : null)
                    .queryMask(r.nextInt(3) == 0 ? RandomInputs.randomLengths(r.nextLong(), b, nq, 0) : null)
                    .build();
            cases.add(new AttentionCase("random-" + n, p, r.nextLong()));
        }
        return cases;
    }

    /** {@code out} of {@code c} on {@code kernels}, every element first set to NaN so that an unwritten one fails. */
    static FloatTensor attention(JavaKernels kernels, AttentionCase c) {
        AttentionProblem p = c.problem;
        FloatTensor[] qkv = inputs(c);
        FloatTensor out = FloatTensor.zeros(p.batch(), p.queries(), p.heads() * p.dimHead());
        Arrays.fill(out.array(), Float.NaN);
        AttentionCallPlan call = AttentionCallPlan.of(p);
        PlanIo io = new PlanIo().tensor(call.q, qkv[0]).tensor(call.k, qkv[1]).tensor(call.v, qkv[2])
                .tensor(call.out, out).mask(call.keyMask, p.keyMask()).mask(call.queryMask, p.queryMask());
        new JavaMachine(List.of(), kernels).run(call.plan, io);
        return out;
    }

    static FloatTensor[] inputs(AttentionCase c) {
        AttentionProblem p = c.problem;
        return new FloatTensor[] {
            RandomInputs.normal(c.seed, p.batch(), p.queries(), p.heads() * p.dimHead()),
            RandomInputs.normal(c.seed + 1, p.batch(), p.keys(), p.kvHeads() * p.dimHead()),
            RandomInputs.normal(c.seed + 2, p.batch(), p.keys(), p.kvHeads() * p.dimHead())};
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attentionCases")
    void attentionMatchesTheReferenceOnEveryKernelSetAndTheSetsAgree(AttentionCase c) {
        FloatTensor[] qkv = inputs(c);
        double[][][] ref = Reference64.attention(c.problem, qkv[0], qkv[1], qkv[2]);
        FloatTensor first = null;
        for (JavaKernels k : KernelSets.all()) {
            FloatTensor out = attention(k, c);
            double err = Reference64.relativeError(out, ref);
            assertTrue(err <= TOLERANCE, k.name() + ": relative error " + err);
            assertZeroWhereTheReferenceIsZero(k.name(), out, ref);
            if (first == null) {
                first = out;
            } else {
                double diff = relativeDifference(out.array(), first.array());
                assertTrue(diff <= TOLERANCE, k.name() + " vs scalar: relative difference " + diff);
            }
        }
    }

    /** Masked rows and rows without a visible key are exactly zero (the reference leaves them 0.0). */
    private static void assertZeroWhereTheReferenceIsZero(String kernels, FloatTensor out, double[][][] ref) {
        int idx = 0;
        for (double[][] element : ref) {
            for (double[] row : element) {
                boolean zeroRow = true;
                for (double x : row) {
                    zeroRow &= x == 0.0;
                }
                for (int e = 0; e < row.length; e++, idx++) {
                    if (zeroRow) {
                        assertEquals(0f, out.get(idx), kernels + ": element " + idx + " of a row without keys");
                    }
                }
            }
        }
    }

    static double relativeDifference(float[] a, float[] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (double) a[i] - b[i];
            num += d * d;
            den += (double) b[i] * b[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    static List<int[]> gemmShapes() {
        // rows around the 5-row kernel and the 80-row task, inputs around the 256-input pass, outputs around the
        // 2-vector panels (16 or 32 columns) and column blocks of uneven width
        return List.of(new int[] {1, 1, 1}, new int[] {4, 3, 7}, new int[] {5, 17, 16}, new int[] {6, 255, 15},
                new int[] {79, 256, 17}, new int[] {80, 257, 33}, new int[] {81, 600, 130}, new int[] {97, 64, 257},
                new int[] {13, 513, 31}, new int[] {170, 40, 500});
    }

    @ParameterizedTest(name = "rows, in, out = {0}")
    @MethodSource("gemmShapes")
    void projectionMatchesFloat64OnEveryKernelSet(int[] shape) {
        int rows = shape[0];
        int in = shape[1];
        int out = shape[2];
        PackedWeight w = PackedWeight.stack("w", RandomInputs.normal(rows * 31L + in, out, in));
        float[] x = RandomInputs.normal(in * 7L + out, rows, in).array();
        double[] ref = new double[rows * out];
        float[] wd = w.data();
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int k = 0; k < in; k++) {
                    s += (double) x[r * in + k] * wd[o * in + k];
                }
                ref[r * out + o] = s;
            }
        }
        // the call writes rows * out elements from offset 3 and nothing around them
        int offset = 3;
        float[] first = null;
        for (JavaKernels k : KernelSets.all()) {
            JavaKernels.Projection p = k.projection(w);
            assertEquals(in, p.in());
            assertEquals(out, p.out());
            float[] xs = new float[offset + rows * in];
            System.arraycopy(x, 0, xs, offset, rows * in);
            float[] y = new float[offset + rows * out + 5];
            Arrays.fill(y, Float.NaN);
            assertEquals(-1L, p.apply(xs, offset, rows, y, offset), k.name() + ": finite outputs reported as not");
            double num = 0;
            double den = 0;
            for (int i = 0; i < rows * out; i++) {
                double d = y[offset + i] - ref[i];
                num += d * d;
                den += ref[i] * ref[i];
            }
            double err = Math.sqrt(num / den);
            assertTrue(err <= TOLERANCE, k.name() + ": relative error " + err);
            for (int i = 0; i < offset; i++) {
                assertTrue(Float.isNaN(y[i]), k.name() + ": wrote before the output at " + i);
            }
            for (int i = offset + rows * out; i < y.length; i++) {
                assertTrue(Float.isNaN(y[i]), k.name() + ": wrote past the output at " + i);
            }
            float[] got = Arrays.copyOfRange(y, offset, offset + rows * out);
            if (first == null) {
                first = got;
            } else {
                double diff = relativeDifference(got, first);
                assertTrue(diff <= TOLERANCE, k.name() + " vs scalar: relative difference " + diff);
            }
        }
    }

    /** A row's bits do not depend on which rows share its call (its block, the edge path, its task). */
    @Test
    void aProjectionRowHasTheSameBitsWhereverItSits() {
        assertPartsMatchTheWholeCall(61, 5, 45, new int[][] {{0, 1}, {5, 7}, {7, 40}, {59, 2}, {20, 41}});
    }

    /**
     * Calls of up to {@link VectorLinear#FEW_ROWS} rows (decoding steps) stream the weights four panels (one row) or
     * two (a pair of rows) at a time, a full or partial last panel included: each row keeps the bits of the same row
     * in a call of many rows.
     */
    @Test
    void aFewRowsCallGivesTheBitsOfTheSameRowsInALargerCall() {
        for (int out : new int[] {7, 45, 100, 16 * 9}) {
            assertPartsMatchTheWholeCall(40, 13 + out, out,
                    new int[][] {{0, 1}, {3, 2}, {10, 3}, {20, 4}, {39, 1}, {25, 5}, {30, 8}, {31, 7}});
        }
    }

    /**
     * A row's bits do not depend on how its call is blocked, which follows the call's rows: the vector kernel packs
     * the inputs once for the whole call (a few rows, split by columns) or pass by pass in each task (enough rows for
     * every task without a column split); the scalar kernel takes 4 rows per task, or up to 16 in a call of many.
     */
    @Test
    void aProjectionRowHasTheSameBitsWhateverTheBlockingOfItsCall() {
        int rows = VectorLinear.MIN_TASKS * VectorLinear.MC + 7;
        assertPartsMatchTheWholeCall(rows, 11, 45, new int[][] {{0, 1}, {3, 90}, {1234, 80}, {rows - 67, 67}});
    }

    /**
     * On every kernel set, a projection [300 -> out] of {@code rows} rows, weights from {@code seed} and inputs from
     * {@code seed + 1}, gives each part {@code {first row, rows}} called alone the bits of the same rows of the whole
     * call.
     */
    private static void assertPartsMatchTheWholeCall(int rows, long seed, int out, int[][] parts) {
        int in = 300;
        PackedWeight w = PackedWeight.stack("w", RandomInputs.normal(seed, out, in));
        float[] x = RandomInputs.normal(seed + 1, rows, in).array();
        for (JavaKernels k : KernelSets.all()) {
            JavaKernels.Projection p = k.projection(w);
            float[] all = new float[rows * out];
            p.apply(x, 0, rows, all, 0);
            for (int[] part : parts) {
                float[] some = new float[part[1] * out];
                p.apply(x, part[0] * in, part[1], some, 0);
                assertArrayEquals(Arrays.copyOfRange(all, part[0] * out, (part[0] + part[1]) * out), some,
                        k.name() + ": rows " + part[0] + " + " + part[1]);
            }
        }
    }

    @Test
    void resultsAreBitIdenticalForEveryThreadCount() {
        // 12 work items (too few keys to split), a split one-query call (4 items, 3 key chunks), a GEMM of 6 tasks
        AttentionCase many = new AttentionCase("many-items", AttentionProblem.builder().batch(2).heads(8).kvHeads(2)
                .queries(70).keys(90).dimHead(40).causal(true).keyMask(RandomInputs.scattered(3, 2, 90, 0.8))
                .build(), 7);
        AttentionCase split = new AttentionCase("split", AttentionProblem.builder().batch(2).heads(4).kvHeads(2)
                .queries(1).keys(600).dimHead(64).build(), 8);
        PackedWeight w = PackedWeight.stack("w", RandomInputs.normal(9, 90, 260));
        float[] x = RandomInputs.normal(10, 60, 260).array();
        for (JavaKernels k : KernelSets.all()) {
            JavaKernels.Projection p = k.projection(w);
            Supplier<float[][]> run = () -> {
                float[] y = new float[60 * 90];
                p.apply(x, 0, 60, y, 0);
                return new float[][] {attention(k, many).toArray(), attention(k, split).toArray(), y};
            };
            float[][] expected = onThreads(1, run);
            for (int threads : new int[] {2, 3, 5}) {
                float[][] got = onThreads(threads, run);
                for (int i = 0; i < expected.length; i++) {
                    assertArrayEquals(expected[i], got[i], k.name() + ", result " + i + ", " + threads + " threads");
                }
            }
        }
    }

    /** {@code body} with the kernels' work spread over a pool of {@code threads}. */
    static float[][] onThreads(int threads, Supplier<float[][]> body) {
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            float[][][] result = new float[1][][];
            Parallel.withPool(pool, () -> result[0] = body.get());
            return result[0];
        } finally {
            pool.shutdown();
        }
    }
}
