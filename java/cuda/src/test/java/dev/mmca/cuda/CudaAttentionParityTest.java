package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The attention kernels against the float64 oracle, on tensors already on the device (GPU only). */
class CudaAttentionParityTest {
    @BeforeEach
    void needsGpu() {
        GpuTestSupport.assumeGpu();
    }

    /** Every precision x head dim, with sizes that are not multiples of any tile, masks and GQA. */
    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        int seed = 0;
        for (CudaPrecision p : CudaPrecision.values()) {
            for (int d : new int[] {32, 64, 80, 96, 128}) {
                seed++;
                list.add(Arguments.of(p, d, seed % 2 == 0, seed % 3 == 0,
                        seed % 2 == 0 ? HeadMapping.MODULO : HeadMapping.GROUPED));
            }
        }
        return list.stream();
    }

    private static double run(CudaPrecision precision, AttentionProblem withMasks, long seed, float[][] outHolder) {
        int b = withMasks.batch();
        int n = withMasks.queries();
        int m = withMasks.keys();
        int hd = withMasks.heads() * withMasks.dimHead();
        int gd = withMasks.kvHeads() * withMasks.dimHead();
        FloatTensor q = RandomInputs.normal(seed, b, n, hd);
        FloatTensor k = RandomInputs.normal(seed + 1, b, m, gd);
        FloatTensor v = RandomInputs.normal(seed + 2, b, m, gd);
        AttentionProblem bare = AttentionProblem.builder().batch(b).heads(withMasks.heads())
                .kvHeads(withMasks.kvHeads()).queries(n).keys(m).dimHead(withMasks.dimHead())
                .scale(withMasks.scale()).causal(withMasks.causal()).qkNorm(withMasks.qkNorm())
                .headMapping(withMasks.headMapping()).build();
        try (DeviceTensors dev = new DeviceTensors(precision.dtype())) {
            long out = dev.poisonedOutput((long) b * n * hd);
            CudaAttention.attention(0, bare, precision, dev.input(q), dev.input(k), dev.input(v), out,
                    dev.mask(withMasks.keyMask()), dev.mask(withMasks.queryMask()), 0L);
            CudaAttention.synchronize(0, 0L);
            FloatTensor result = dev.read(out, b, n, hd);
            outHolder[0] = result.toArray();
            return Reference64.relativeError(result, Reference64.attention(withMasks, q, k, v));
        }
    }

    @ParameterizedTest(name = "{0} D={1} causal={2} qkNorm={3} {4}")
    @MethodSource("cases")
    void matchesTheFloat64Oracle(CudaPrecision precision, int d, boolean causal, boolean qkNorm, HeadMapping mapping) {
        int b = 2;
        int n = 37;
        int m = 83;  // causal offset M - N = 46; several key tiles, a ragged last one
        AttentionProblem p = AttentionProblem.builder().batch(b).heads(4).kvHeads(2).queries(n).keys(m).dimHead(d)
                .causal(causal).qkNorm(qkNorm).headMapping(mapping)
                .keyMask(RandomInputs.scattered(d * 7L, b, m, 0.8))
                .queryMask(RandomInputs.randomLengths(d * 11L, b, n, n / 2))
                .build();
        float[][] out = new float[1][];
        double err = run(precision, p, 1000 + d, out);
        double tol = GpuTestSupport.tolerance(precision);
        assertTrue(err <= tol, precision + " D=" + d + ": relative error " + err + " > " + tol);
    }

    @Test
    void queriesWithNoVisibleKeyGetExactZeros() {
        // N > M with causal masking: query i sees keys j <= i - (N - M), so the first N - M rows see nothing.
        int b = 1;
        int n = 70;
        int m = 30;
        int hd = 2 * 64;
        for (CudaPrecision precision : CudaPrecision.values()) {
            AttentionProblem p = AttentionProblem.builder().batch(b).heads(2).kvHeads(1).queries(n).keys(m)
                    .dimHead(64).causal(true).build();
            float[][] out = new float[1][];
            double err = run(precision, p, 77, out);
            assertTrue(err <= GpuTestSupport.tolerance(precision), precision + ": " + err);
            for (int i = 0; i < n - m; i++) {
                for (int c = 0; c < hd; c++) {
                    assertEquals(0f, out[0][i * hd + c], precision + ": row " + i + " has no visible key");
                }
            }
        }
    }

    @Test
    void fullyMaskedBatchElementGivesZerosNotNaN() {
        int b = 2;
        int n = 17;
        int m = 19;
        Mask keys = Mask.fromLengths(new int[] {m, 0}, m);  // element 1 has no real key at all
        AttentionProblem p = AttentionProblem.builder().batch(b).heads(4).kvHeads(4).queries(n).keys(m).dimHead(32)
                .keyMask(keys).build();
        float[][] out = new float[1][];
        double err = run(CudaPrecision.FP32, p, 5, out);
        assertTrue(err <= Precision.FP32.relativeTolerance(), "relative error " + err);
        int hd = 4 * 32;
        for (int i = n * hd; i < 2 * n * hd; i++) {
            assertEquals(0f, out[0][i]);
        }
    }

    @Test
    void resultsAreBitIdenticalRunToRun() {
        for (CudaPrecision precision : CudaPrecision.values()) {
            AttentionProblem p = AttentionProblem.builder().batch(2).heads(8).kvHeads(2).queries(65).keys(129)
                    .dimHead(96).causal(true).build();
            float[][] a = new float[1][];
            float[][] c = new float[1][];
            run(precision, p, 9, a);
            run(precision, p, 9, c);
            assertArrayEquals(a[0], c[0], precision + " must be deterministic");
        }
    }

    @Test
    void hostTensorApiOfTheBackendMatchesTheOracle() {
        for (CudaPrecision precision : CudaPrecision.values()) {
            CudaBackend backend = CudaBackend.withPrecision(precision);
            AttentionProblem p = AttentionProblem.builder().batch(2).heads(6).kvHeads(3).queries(21).keys(33)
                    .dimHead(80).causal(true).keyMask(RandomInputs.randomLengths(3, 2, 33, 5)).build();
            FloatTensor q = RandomInputs.normal(1, 2, 21, 6 * 80);
            FloatTensor k = RandomInputs.direct(RandomInputs.normal(2, 2, 33, 3 * 80));
            FloatTensor v = RandomInputs.normal(3, 2, 33, 3 * 80);
            FloatTensor out = FloatTensor.zeros(2, 21, 6 * 80);
            java.util.Arrays.fill(out.array(), Float.NaN);
            backend.attention(p, q, k, v, out);
            double err = Reference64.relativeError(out, Reference64.attention(p, q, k, v));
            assertTrue(err <= GpuTestSupport.tolerance(precision), precision + ": relative error " + err);
        }
    }
}
