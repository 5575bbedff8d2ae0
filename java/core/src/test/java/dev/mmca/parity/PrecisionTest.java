package dev.mmca.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PrecisionTest {
    @Test
    void boundsFollowThePrecision() {
        assertEquals(1e-5, Precision.FP32.relativeTolerance());
        assertEquals(1e-6, Precision.FP32.reorderingTolerance());
        assertEquals(1e-3, Precision.TF32.relativeTolerance());
        assertEquals(1e-2, Precision.BF16.relativeTolerance());
        assertEquals(1e-2, Precision.FP16.relativeTolerance());
        assertEquals(1e-9, Precision.FP64.relativeTolerance());
        for (Precision p : Precision.values()) {
            assertTrue(p.reorderingTolerance() <= p.relativeTolerance(), p + ": a reordering is no worse than the"
                    + " distance to float64");
            assertTrue(p.rationale().contains("roundoff"), p + " explains its bound: " + p.rationale());
        }
    }

    @Test
    void withinIsInclusiveAndNaNNeverPasses() {
        assertTrue(Precision.FP32.withinReference(1e-5));
        assertFalse(Precision.FP32.withinReference(1.0000001e-5));
        assertFalse(Precision.BF16.withinReference(Double.NaN));
        assertFalse(Precision.BF16.withinReference(Double.POSITIVE_INFINITY));
    }

    @Test
    void parsesLabelsAndNamesWhatItExpected() {
        for (Precision p : Precision.values()) {
            assertEquals(p, Precision.parse(p.label()));
            assertEquals(p, Precision.parse(" " + p.name() + " "));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("int8"));
        assertEquals("precision: expected one of fp64, fp32, tf32, bf16, fp16, got 'int8'", e.getMessage());
    }
}
