package dev.mmca;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** {@link FloatTensor#firstNonFinite()} over arrays and direct buffers, across its scan chunks. */
class FloatTensorFiniteScanTest {

    private static final int N = 3 * 4096 + 17;

    private static FloatTensor[] both(float[] values) {
        FloatTensor heap = FloatTensor.of(values.clone(), values.length);
        FloatTensor direct = FloatTensor.allocateDirect(values.length);
        for (int i = 0; i < values.length; i++) {
            direct.buffer().put(i, values[i]);
        }
        return new FloatTensor[] {heap, direct};
    }

    private static float[] finiteExtremes() {
        float[] v = new float[N];
        for (int i = 0; i < N; i++) {
            v[i] = switch (i % 5) {
                case 0 -> Float.MAX_VALUE;
                case 1 -> -Float.MAX_VALUE;
                case 2 -> Float.MIN_VALUE;
                case 3 -> -0.0f;
                default -> i * 0.5f;
            };
        }
        return v;
    }

    @Test
    void finiteValuesUpToTheLargestAndSubnormalsPass() {
        for (FloatTensor t : both(finiteExtremes())) {
            assertEquals(-1, t.firstNonFinite(), t.isDirect() ? "direct" : "heap");
        }
    }

    @Test
    void theFirstNanOrInfinityIsFoundWhereverItLies() {
        int[] places = {0, 4095, 4096, 2 * 4096 + 1, N - 1};
        float[] bad = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.intBitsToFloat(0x7fc00001)};
        for (int place : places) {
            for (float b : bad) {
                float[] v = finiteExtremes();
                v[place] = b;
                if (place + 3 < N) {
                    v[place + 3] = Float.NaN;  // a later one is not the answer
                }
                for (FloatTensor t : both(v)) {
                    assertEquals(place, t.firstNonFinite(), (t.isDirect() ? "direct" : "heap") + ", " + b + " at " + place);
                }
            }
        }
    }
}
