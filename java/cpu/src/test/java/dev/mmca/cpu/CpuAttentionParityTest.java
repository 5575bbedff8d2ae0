package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.testing.RandomInputs;
import dev.mmca.testkit.ForEachKernelPath;
import dev.mmca.testkit.ParityAssertions;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Backend.attention on the CPU backend against the float64 oracle and the java backend. */
class CpuAttentionParityTest {
    private static final double TOLERANCE = Precision.FP32.relativeTolerance();
    private final CpuBackend cpu = new CpuBackend();

    /** A random problem; {@code index} walks head ratios, causal offsets (N < M, N > M) and masks. */
    static AttentionProblem problem(int index, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] ratios = {{1, 1}, {2, 1}, {4, 1}, {4, 2}, {6, 3}, {8, 2}, {8, 8}, {16, 4}};
        int[] hg = ratios[index % ratios.length];
        int b = 1 + r.nextInt(2);
        int n = 1 + r.nextInt(140);
        int m = 1 + r.nextInt(160);
        int[] dims = {64, 80, 7, 32};
        AttentionProblem.Builder p = AttentionProblem.builder().batch(b).heads(hg[0]).kvHeads(hg[1]).queries(n)
                .keys(m).dimHead(dims[r.nextInt(dims.length)]).causal(r.nextBoolean()).qkNorm(r.nextInt(3) == 0)
                .headMapping(r.nextBoolean() ? HeadMapping.MODULO : HeadMapping.GROUPED);
        if (r.nextBoolean()) {
            p.keyMask(RandomInputs.scattered(seed + 7, b, m, 0.7));
        }
        if (r.nextInt(3) == 0) {
            p.queryMask(RandomInputs.scattered(seed + 8, b, n, 0.8));
        }
        return p.build();
    }

    static FloatTensor[] inputs(AttentionProblem p, long seed, boolean direct) {
        int hd = p.heads() * p.dimHead();
        int gd = p.kvHeads() * p.dimHead();
        FloatTensor q = RandomInputs.normal(seed, p.batch(), p.queries(), hd);
        FloatTensor k = RandomInputs.normal(seed + 1, p.batch(), p.keys(), gd);
        FloatTensor v = RandomInputs.normal(seed + 2, p.batch(), p.keys(), gd);
        if (direct) {
            return new FloatTensor[] {RandomInputs.direct(q), RandomInputs.direct(k), RandomInputs.direct(v),
                FloatTensor.allocateDirect(p.batch(), p.queries(), hd)};
        }
        return new FloatTensor[] {q, k, v, FloatTensor.zeros(p.batch(), p.queries(), hd)};
    }

    /** Every instruction-set path (the kit selects it for the invocation and restores the one before). */
    @ForEachKernelPath(backends = "cpu")
    void randomProblemsMatchFloat64ReferenceOnEveryPath(KernelPath path) {
        assertEquals(path.name(), CpuRuntime.isa(), "the kit put the path in force");
        double worst = 0;
        for (int i = 0; i < 48; i++) {
            AttentionProblem p = problem(i, 300L + i);
            FloatTensor[] t = inputs(p, 900L + i, i % 2 == 0);
            for (int e = 0; e < t[3].size(); e++) {
                t[3].set(e, Float.NaN); // every output element must be written
            }
            path.backend().attention(p, t[0], t[1], t[2], t[3]);
            Comparison err = ParityAssertions.assertWithin(path + " " + p, t[3], Reference64.attention(p, t[0], t[1],
                    t[2]), path.precision());
            worst = Math.max(worst, err.relativeError());
        }
        System.out.printf("%s attention vs Reference64: worst relative error %.3g%n", path, worst);
    }

    @Test
    void rowsWithoutVisibleKeysAreZero() {
        // Batch element 0 has every key masked; query 0 of batch element 1 is masked.
        boolean[] keys = new boolean[2 * 20];
        for (int j = 20; j < 40; j++) {
            keys[j] = j % 2 == 0;
        }
        boolean[] queries = new boolean[2 * 9];
        java.util.Arrays.fill(queries, true);
        queries[9] = false;
        AttentionProblem p = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(9).keys(20).dimHead(16)
                .keyMask(Mask.of(keys, 2, 20)).queryMask(Mask.of(queries, 2, 9)).build();
        FloatTensor[] t = inputs(p, 5, false);
        cpu.attention(p, t[0], t[1], t[2], t[3]);
        int row = 4 * 16;
        for (int e = 0; e < 9 * row; e++) {
            assertEquals(0f, t[3].get(e), "batch 0 sees no key");
        }
        for (int e = 9 * row; e < 10 * row; e++) {
            assertEquals(0f, t[3].get(e), "masked query row");
        }
        assertTrue(Reference64.relativeError(t[3], Reference64.attention(p, t[0], t[1], t[2])) <= TOLERANCE);
    }

    @Test
    void randomProblemsMatchJavaBackend() {
        for (int i = 0; i < 24; i++) {
            AttentionProblem p = problem(i, 700L + i);
            FloatTensor[] t = inputs(p, 1900L + i, false);
            FloatTensor expected = FloatTensor.zeros(t[3].shape());
            try {
                JavaBackend.instance().attention(p, t[0], t[1], t[2], expected);
            } catch (UnsupportedOperationException e) {
                Assumptions.abort("java backend not implemented yet: " + e.getMessage());
            }
            cpu.attention(p, t[0], t[1], t[2], t[3]);
            double d = CpuModelParityTest.relative(t[3], expected);
            assertTrue(d <= TOLERANCE, p + ": relative difference to java backend " + d);
        }
    }
}
