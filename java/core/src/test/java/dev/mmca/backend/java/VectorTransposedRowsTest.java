package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The vector kernels' output write: the scalar loop's rows bit for bit, and nothing written where no row is. */
class VectorTransposedRowsTest {
    @ParameterizedTest(name = "lanes {0} of stride {1}, d {2}")
    @CsvSource({"8, 8, 8", "16, 16, 64", "16, 24, 13", "24, 32, 7", "8, 16, 1", "32, 32, 67"})
    void writesEachLaneAsTheScaledColumnOfItsAccumulator(int lanes, int stride, int d) {
        assumeTrue(ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent(),
                "needs --add-modules jdk.incubator.vector");
        Random random = new Random(31L * lanes + stride + 7L * d);
        float[] acc = new float[d * stride];
        for (int i = 0; i < acc.length; i++) {
            acc[i] = (float) random.nextGaussian() * 100f;
        }
        float[] scale = new float[stride];
        int[] dst = new int[stride];
        for (int lane = 0; lane < stride; lane++) {
            scale[lane] = 1f / (1f + random.nextFloat() * 50f);
            // every third lane has no row; the others write in a shuffled order with a gap after each row
            dst[lane] = lane >= lanes || lane % 3 == 1 ? -1 : ((lane * 5) % lanes) * (d + 3) + 2;
        }
        float sentinel = -12345f;
        float[] out = new float[lanes * (d + 3) + 2];
        java.util.Arrays.fill(out, sentinel);
        float[] expected = out.clone();
        for (int lane = 0; lane < lanes; lane++) {
            if (dst[lane] >= 0) {
                for (int e = 0; e < d; e++) {
                    expected[dst[lane] + e] = acc[e * stride + lane] * scale[lane];
                }
            }
        }

        VectorTransposedRows.write(acc, scale, stride, lanes, d, out, dst);

        for (int i = 0; i < out.length; i++) {
            assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(out[i]),
                    "element " + i + ": expected " + expected[i] + ", got " + out[i]);
        }
    }
}
