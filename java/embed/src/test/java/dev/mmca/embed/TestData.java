package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.SimpleMmca;
import dev.mmca.parity.Precision;

/** Small configs and comparisons shared by the tests. */
final class TestData {
    private TestData() {
    }

    static MmcaConfig smallConfig() {
        return MmcaConfig.builder().dim(32).heads(4).kvHeads(2).dimHead(8).build();
    }

    /** Outputs of running one record alone, unpadded: {visual [nv*dim], text [nt*dim]}. */
    static float[][] alone(SimpleMmca model, EmbedRecord r) {
        int dim = model.config().dim();
        MmcaOutput o = model.forward(FloatTensor.of(r.visual(), 1, r.visualLength(), dim),
                FloatTensor.of(r.text(), 1, r.textLength(), dim));
        return new float[][] {o.visual().toArray(), o.text().toArray()};
    }

    /** {@code ||actual - expected|| / ||expected||} stays under the float32 bound of {@link Precision}
     * (accumulation-order differences). */
    static void assertClose(float[] expected, float[] actual, int actualOffset, String what) {
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = actual[actualOffset + i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        assertTrue(norm > 0, what + ": expected a non-zero reference");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < Precision.FP32.relativeTolerance(), what + ": relative error " + rel + " >= " + Precision.FP32.relativeTolerance());
    }

    /** Every element of {@code a} in {@code [from, to)} is exactly zero. */
    static void assertZero(float[] a, int from, int to, String what) {
        for (int i = from; i < to; i++) {
            assertEquals(0f, a[i], what + " at flat index " + i);
        }
    }
}
