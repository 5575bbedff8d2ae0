package dev.mmca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** FloatTensor.tokens / setTokens, Mask.tokens and Modality.tokens: the slices of a decoding loop. */
class TokenSlicesTest {
    private static FloatTensor counting(boolean direct, int b, int n, int dim) {
        FloatTensor t = direct ? FloatTensor.allocateDirect(b, n, dim) : FloatTensor.zeros(b, n, dim);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, i);
        }
        return t;
    }

    @Test
    void tokensCopiesTheRangeOfEveryBatchElementKeepingTheStorageKind() {
        for (boolean direct : new boolean[] {false, true}) {
            FloatTensor t = counting(direct, 2, 5, 3);
            FloatTensor part = t.tokens(1, 2);
            assertArrayEquals(new int[] {2, 2, 3}, part.shape());
            assertEquals(direct, part.isDirect());
            assertArrayEquals(new float[] {3, 4, 5, 6, 7, 8, 18, 19, 20, 21, 22, 23}, part.toArray());
            part.set(0, -1);
            assertEquals(3f, t.get(3), "a copy, not a view");
            assertEquals(0, t.tokens(5, 0).size());
        }
    }

    @Test
    void setTokensWritesBackWhatTokensTookOut() {
        for (boolean direct : new boolean[] {false, true}) {
            FloatTensor t = counting(direct, 3, 7, 2);
            FloatTensor rebuilt = direct ? FloatTensor.allocateDirect(3, 7, 2) : FloatTensor.zeros(3, 7, 2);
            int[] steps = {1, 4, 2};
            int at = 0;
            for (int s : steps) {
                rebuilt.setTokens(at, t.tokens(at, s));
                at += s;
            }
            assertArrayEquals(t.toArray(), rebuilt.toArray());
        }
    }

    @Test
    void outOfRangeAndMismatchedShapesAreRefusedNamingTheRange() {
        FloatTensor t = counting(false, 2, 5, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.tokens(4, 2));
        assertEquals("tokens: expected tokens [from, from + count) within 0..5, got from 4, count 2", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.tokens(-1, 1));
        e = assertThrows(IllegalArgumentException.class, () -> t.setTokens(0, FloatTensor.zeros(2, 1, 4)));
        assertTrue(e.getMessage().startsWith("part: expected shape [2, count, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.setTokens(4, FloatTensor.zeros(2, 2, 3)));
        assertThrows(IllegalStateException.class, () -> FloatTensor.zeros(6).tokens(0, 1));
    }

    @Test
    void maskTokensSlicesEveryRow() {
        Mask m = Mask.of(new boolean[] {true, false, true, true, false, false, true, false}, 2, 4);
        Mask part = m.tokens(1, 2);
        assertEquals(2, part.batch());
        assertEquals(2, part.length());
        assertFalse(part.get(0, 0));
        assertTrue(part.get(0, 1));
        assertFalse(part.get(1, 0));
        assertTrue(part.get(1, 1));
        assertThrows(IllegalArgumentException.class, () -> m.tokens(3, 2));
    }

    @Test
    void modalityTokensSlicesEveryRowAndRefusesAnEmptyOrOutOfRangeSlice() {
        Modality m = Modality.parse("ttii.i", "i.tttt");
        Modality part = m.tokens(2, 3);
        assertEquals("ii.", part.row(0));
        assertEquals("ttt", part.row(1));
        assertEquals(m, m.tokens(0, 6));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.tokens(4, 3));
        assertEquals("tokens: expected tokens [from, from + count) within 0..6, got from 4, count 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> m.tokens(1, 0));
        assertEquals("count: expected at least one token, got 0", e.getMessage());
    }
}
