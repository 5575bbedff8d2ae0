package dev.mmca.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import java.util.List;
import org.junit.jupiter.api.Test;

class SeededInputsTest {
    private static final float[] PINNED_SEED_1 = {-0.03426732f, -2.5000675f, 0.087722465f};

    @Test
    void aSeedGivesTheSameValuesEveryTimeAndAnotherSeedOthers() {
        assertArrayEquals(SeededInputs.normal(7, 3, 5, 11).toArray(), SeededInputs.normal(7, 3, 5, 11).toArray());
        assertFalse(java.util.Arrays.equals(SeededInputs.normal(7, 3, 5, 11).toArray(),
                SeededInputs.normal(8, 3, 5, 11).toArray()));
        // pinned values: a change of generator would silently change every seeded case and fixture
        assertArrayEquals(PINNED_SEED_1, SeededInputs.normal(1, 3).toArray());
        double mean = 0;
        double var = 0;
        float[] many = SeededInputs.normal(3, 100_000).toArray();
        for (float x : many) {
            mean += x;
        }
        mean /= many.length;
        for (float x : many) {
            var += (x - mean) * (x - mean);
        }
        var /= many.length;
        assertEquals(0, mean, 0.02, "standard normal mean");
        assertEquals(1, var, 0.02, "standard normal variance");
    }

    @Test
    void modelInputsHaveMasksWithAtLeastOneRealVisualTokenAndCheckTheComposition() {
        MmcaConfig c = MmcaConfig.builder().dim(9).heads(3).kvHeads(1).dimHead(5).build();
        MmcaInputs in = SeededInputs.modelInputs(c, 4, 3, 7, 5, true);
        assertArrayEquals(new int[] {3, 7, 9}, in.visual().shape());
        assertArrayEquals(new int[] {3, 5, 9}, in.text().shape());
        assertNotNull(in.visualMask());
        for (int b = 0; b < 3; b++) {
            assertTrue(in.visualMask().get(b, 0), "element " + b + " keeps its first visual token");
        }
        in.validate(c);
        MmcaConfig seed = c.toBuilder().composition(Composition.SEED).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SeededInputs.modelInputs(seed, 4, 3, 7, 5, false));
        assertTrue(e.getMessage().startsWith("text: composition SEED"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SeededInputs.randomLengths(1, 2, 3, 4));
    }

    @Test
    void theSweepIsFixedAndCoversTheCorners() {
        List<ParityCase> a = ParityCases.sweep(10);
        List<ParityCase> b = ParityCases.sweep(10);
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            assertEquals(a.get(i).config(), b.get(i).config());
            assertEquals(a.get(i).seed(), b.get(i).seed());
            assertArrayEquals(a.get(i).visual().toArray(), b.get(i).visual().toArray());
        }
        assertTrue(a.stream().anyMatch(c -> c.config().dimHead() == 80));
        assertTrue(a.stream().anyMatch(c -> c.config().dim() % 2 == 1), "an odd model width");
        assertTrue(a.stream().anyMatch(c -> c.visualTokens() != c.textTokens()));
        assertTrue(a.stream().anyMatch(c -> c.config().composition() == Composition.SEED));
        assertTrue(a.stream().anyMatch(c -> c.config().kvHeads() == 1 && c.config().heads() > 1), "multi-query");
    }
}
