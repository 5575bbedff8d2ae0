package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RelativeErrorTest {
    @Test
    void relativeErrorIsInfiniteForNaNAndRejectsLengthMismatch() {
        assertEquals(Double.POSITIVE_INFINITY, RelativeError.of(new float[] {Float.NaN, 1}, new float[] {1, 1}));
        assertEquals(0.5, RelativeError.of(new float[] {0, 1.5f}, new float[] {0, 1}), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> RelativeError.of(new float[2], new float[3]));
    }
}
