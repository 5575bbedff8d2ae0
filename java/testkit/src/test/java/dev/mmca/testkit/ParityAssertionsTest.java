package dev.mmca.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.Backends;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.ParityCase;
import dev.mmca.parity.ParityCases;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.parity.SeededInputs;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class ParityAssertionsTest {
    @Test
    void withinPassesAndAFailureSaysHowFarAndWhere() {
        FloatTensor out = SeededInputs.normal(1, 2, 3, 4);
        double[][][] ref = Reference64.toDouble(out);
        Comparison same = ParityAssertions.assertWithin("exact", out, ref, Precision.FP32);
        assertEquals(0.0, same.relativeError());
        ref[1][2][3] += 1.0;
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> ParityAssertions.assertWithin("text", out, ref, Precision.FP32));
        assertTrue(e.getMessage().startsWith("text: relative error "), e.getMessage());
        assertTrue(e.getMessage().contains("above the fp32 bound 1.0e-05 (max abs error 1.000e+00 at [1, 2, 3])"),
                e.getMessage());
        // the 16-bit bound is wider: a 1e-3 error passes it and fails float32's
        double[][][] near = Reference64.toDouble(out);
        for (double[][] m : near) {
            for (double[] row : m) {
                for (int i = 0; i < row.length; i++) {
                    row[i] *= 1.001;
                }
            }
        }
        ParityAssertions.assertWithin("bf16", out, near, Precision.BF16);
        assertThrows(AssertionFailedError.class, () -> ParityAssertions.assertWithin("fp32", out, near, Precision.FP32));
    }

    @Test
    void bitIdentityAndReorderingBounds() {
        FloatTensor a = FloatTensor.of(new float[] {0f, 1f, 2f, 3f}, 1, 2, 2);
        FloatTensor b = FloatTensor.of(new float[] {0f, 1f, -0f, 3f}, 1, 2, 2);
        ParityAssertions.assertBitIdentical("same", a, FloatTensor.of(a.toArray(), 1, 2, 2));
        FloatTensor c = FloatTensor.of(new float[] {0f, 1f, 2f, -0f}, 1, 2, 2);
        FloatTensor zero = FloatTensor.of(new float[] {0f, 1f, 2f, 0f}, 1, 2, 2);
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> ParityAssertions.assertBitIdentical("threads", zero, c));
        assertEquals("threads: not bit-identical, first difference at [0, 1, 1]: expected 0.0, got -0.0", e.getMessage());
        FloatTensor shifted = FloatTensor.of(new float[] {0f, 1f, 2f, 3f * (1 + 1e-7f)}, 1, 2, 2);
        ParityAssertions.assertReordered("decoded", shifted, a, Precision.FP32);
        assertThrows(AssertionFailedError.class, () -> ParityAssertions.assertReordered("decoded", b, a,
                Precision.FP32));
    }

    @Test
    void matchesTheReferenceOnTheJavaPathAndSkipsWhatABackendDoesNotSupport() {
        ParityCase c = ParityCases.sweep(0).get(3);
        KernelPath java = KernelPaths.of(Backends.byName("java")).get(0);
        MmcaOutput out = ParityAssertions.assertMatchesReference(java, c.config(), c.weights(), c.inputs());
        assertEquals(c.batch() * c.textTokens() * c.config().dim(), out.text().size());
        KernelPath narrow = KernelPaths.of(Backends.byName("switching")).get(0);
        MmcaConfig dim13 = MmcaConfig.builder().dim(13).heads(1).dimHead(4).build();
        TestAbortedException skipped = assertThrows(TestAbortedException.class,
                () -> ParityAssertions.assertMatchesReference(narrow, dim13, MmcaWeights.random(dim13, 1),
                        SeededInputs.modelInputs(dim13, 1, 1, 2, 2, false)));
        assertTrue(skipped.getMessage().endsWith("switching/a does not support " + dim13 + ": no kernel for dim 13"),
                skipped.getMessage());
    }
}
