package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class RowTokensTest {
    private static final Supplier<String> ROW = () -> "row 7";

    @Test
    void nestedTokensFlattenRowMajorAndSplitBack() {
        float[][] tokens = {{1, 2, 3}, {4, 5, 6}};
        float[] flat = RowTokens.flatten(tokens, "v", 3, ROW);
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, flat);
        float[][] back = RowTokens.toTokens(flat, 3);
        assertEquals(2, back.length);
        assertArrayEquals(tokens[0], back[0]);
        assertArrayEquals(tokens[1], back[1]);
        assertEquals(0, RowTokens.flatten(new float[0][], "v", 3, ROW).length, "a row may have no tokens");
    }

    @Test
    void flatTokensAreCheckedNotCopied() {
        float[] f = {1, 2, 3, 4, 5, 6};
        assertSame(f, RowTokens.checkFlat(f, "v", 3, null, null, ROW));
        assertSame(f, RowTokens.checkFlat(f, "v", 3, "nv", 2, ROW));
    }

    @Test
    void errorsNameTheRowColumnAndWhatWasExpected() {
        assertEquals("row 7: column 'v': expected a multiple of dim = 4 floats (tokens x dim, the model's dim), got 6",
                assertThrows(IllegalArgumentException.class,
                        () -> RowTokens.checkFlat(new float[6], "v", 4, null, null, ROW)).getMessage());
        assertEquals("row 7: column 'v': expected nv x dim = 3 x 2 = 6 floats, got 4",
                assertThrows(IllegalArgumentException.class,
                        () -> RowTokens.checkFlat(new float[4], "v", 2, "nv", 3, ROW)).getMessage());
        assertEquals("row 7: column 'nv': expected the token count of column 'v' (an integer >= 0), got null",
                assertThrows(IllegalArgumentException.class,
                        () -> RowTokens.checkFlat(new float[4], "v", 2, "nv", null, ROW)).getMessage());
        assertEquals("row 7: column 't', token 1: expected 2 floats (the model's dim), got 3",
                assertThrows(IllegalArgumentException.class,
                        () -> RowTokens.flatten(new float[][] {{1, 2}, {1, 2, 3}}, "t", 2, ROW)).getMessage());
        assertEquals("row 7: column 't', token 1: expected finite floats, got Infinity at 0",
                assertThrows(IllegalArgumentException.class, () -> RowTokens.requireFinite(
                        new float[] {1, 2, Float.POSITIVE_INFINITY, 2}, "t", 2, ROW)).getMessage());
    }

    @Test
    void theRowIsDescribedOnlyWhenSomethingIsWrong() {
        Supplier<String> never = () -> {
            throw new AssertionError("described a good row");
        };
        RowTokens.flatten(new float[][] {{1, 2}}, "t", 2, never);
        RowTokens.checkFlat(new float[] {1, 2}, "t", 2, null, null, never);
        RowTokens.requireFinite(new float[] {1, 2}, "t", 2, never);
    }
}
