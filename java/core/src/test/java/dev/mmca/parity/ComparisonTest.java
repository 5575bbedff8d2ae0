package dev.mmca.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import org.junit.jupiter.api.Test;

class ComparisonTest {
    @Test
    void relativeErrorMaxAbsErrorAndItsPosition() {
        float[] out = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        double[] ref = new double[12];
        for (int i = 0; i < 12; i++) {
            ref[i] = out[i];
        }
        ref[7] += 0.5;  // flat index 7 of shape [2, 2, 3] is [1, 0, 1]
        ref[2] -= 0.25;
        Comparison c = Comparison.of(FloatTensor.of(out, 2, 2, 3), ref);
        double num = 0.5 * 0.5 + 0.25 * 0.25;
        double den = 0;
        for (double r : ref) {
            den += r * r;
        }
        assertEquals(Math.sqrt(num / den), c.relativeError(), 1e-15);
        assertEquals(0.5, c.maxAbsError(), 1e-12);
        assertEquals(7, c.maxAbsIndex());
        assertArrayEquals(new int[] {1, 0, 1}, c.maxAbsPosition());
        assertTrue(c.within(c.relativeError()));
        assertFalse(c.within(c.relativeError() / 2));
    }

    @Test
    void aNonFiniteOutputIsInfinitelyFarAndLocated() {
        float[] out = new float[2 * 3 * 4];
        out[13] = Float.NaN;
        Comparison c = Comparison.of(FloatTensor.of(out, 2, 3, 4), new double[24]);
        assertEquals(Double.POSITIVE_INFINITY, c.relativeError());
        assertArrayEquals(new int[] {1, 0, 1}, c.maxAbsPosition());
        assertFalse(c.within(Double.MAX_VALUE));
    }

    @Test
    void anAllZeroReferenceMeasuresTheOutputItself() {
        Comparison c = Comparison.of(FloatTensor.of(new float[] {3, 4}, 1, 1, 2), new double[2]);
        assertEquals(5.0, c.relativeError(), 1e-12);
        Comparison same = Comparison.of(FloatTensor.zeros(1, 1, 2), new double[2]);
        assertEquals(0.0, same.relativeError());
        assertEquals(-1, same.maxAbsIndex(), "no difference, no position");
        assertArrayEquals(new int[0], same.maxAbsPosition());
    }

    @Test
    void agreesWithTheFloat64ReferenceHelper() {
        FloatTensor a = SeededInputs.normal(1, 2, 5, 7);
        double[][][] b = Reference64.toDouble(SeededInputs.normal(2, 2, 5, 7));
        assertEquals(Reference64.relativeError(a, b), Comparison.of(a, b).relativeError());
    }

    @Test
    void bitIdentityTellsSignedZerosApart() {
        FloatTensor a = FloatTensor.of(new float[] {0f, 1f, 2f}, 1, 1, 3);
        FloatTensor b = FloatTensor.of(new float[] {-0f, 1f, 2f}, 1, 1, 3);
        assertEquals(0, Comparison.firstBitDifference(a, b));
        assertEquals(-1, Comparison.firstBitDifference(a, FloatTensor.of(a.toArray(), 1, 1, 3)));
        b.set(0, 0f);
        b.set(2, Math.nextUp(2f));
        assertEquals(2, Comparison.firstBitDifference(a, b));
    }

    @Test
    void mismatchedSizesAreRefusedNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Comparison.of(FloatTensor.zeros(1, 2, 3), new double[5]));
        assertEquals("expected: 5 values for an output of shape [1, 2, 3] (6 values)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Comparison.of(FloatTensor.zeros(1, 2, 3), FloatTensor.zeros(1, 3, 2)));
        assertEquals("expected: shape [1, 3, 2] for an output of shape [1, 2, 3]", e.getMessage());
    }
}
