package dev.mmca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MmcaConfigTest {
    @Test
    void defaultsFollowUpstream() {
        MmcaConfig c = MmcaConfig.builder().dim(512).heads(8).build();
        assertEquals(8, c.kvHeads(), "kvHeads defaults to heads");
        assertEquals(64, c.dimHead(), "dimHead defaults to 64, not dim/heads");
        assertTrue(c.causal(), "CROSS is causal by default");
        assertEquals(HeadMapping.MODULO, c.headMapping());
        assertEquals(Composition.CROSS, c.composition());
        assertEquals(0.125f, c.scale());
        MmcaConfig seed = MmcaConfig.builder().dim(512).heads(8).composition(Composition.SEED).build();
        assertFalse(seed.causal(), "SEED is not causal by default, as upstream");
        assertEquals(10f, c.toBuilder().qkNorm(true).build().scale());
    }

    @Test
    void causalAppliesToTextOnlyUnderCross() {
        MmcaConfig c = MmcaConfig.builder().dim(8).heads(2).build();
        assertTrue(c.textCausal());
        assertFalse(c.visualCausal());
        assertFalse(c.crossCausal());
        MmcaConfig s = c.toBuilder().composition(Composition.SEED).causal(true).build();
        assertTrue(s.visualCausal() && s.textCausal() && s.crossCausal());
    }

    @Test
    void kvHeadsMustDivideHeads() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MmcaConfig.builder().dim(64).heads(8).kvHeads(3).build());
        assertTrue(e.getMessage().startsWith("kvHeads:"), e.getMessage());
        assertTrue(e.getMessage().contains("divisor of heads (8)") && e.getMessage().contains("got 3"), e.getMessage());
    }

    @Test
    void rejectsNonPositiveSizesNamingTheArgument() {
        assertMessage("dim:", () -> MmcaConfig.builder().dim(0).heads(2).build());
        assertMessage("heads:", () -> MmcaConfig.builder().dim(8).heads(-1).build());
        assertMessage("kvHeads:", () -> MmcaConfig.builder().dim(8).heads(2).kvHeads(0).build());
        assertMessage("kvHeads:", () -> MmcaConfig.builder().dim(8).heads(2).kvHeads(4).build());
        assertMessage("dimHead:", () -> MmcaConfig.builder().dim(8).heads(2).dimHead(0).build());
        assertMessage("dim:", () -> MmcaConfig.builder().heads(2).build());
    }

    @Test
    void parsesEnumsCaseInsensitivelyAndRejectsOthers() {
        assertEquals(Composition.SEED, Composition.parse("Seed"));
        assertEquals(HeadMapping.GROUPED, HeadMapping.parse("grouped"));
        assertMessage("composition:", () -> Composition.parse("both"));
        assertMessage("headMapping:", () -> HeadMapping.parse("interleaved"));
    }

    @Test
    void headMappingsPickTheDocumentedKvHead() {
        // H = 8, G = 2: modulo alternates, grouped takes blocks of H/G = 4
        int[] modulo = new int[8];
        int[] grouped = new int[8];
        for (int h = 0; h < 8; h++) {
            modulo[h] = HeadMapping.MODULO.kvHeadOf(h, 8, 2);
            grouped[h] = HeadMapping.GROUPED.kvHeadOf(h, 8, 2);
        }
        assertEquals("[0, 1, 0, 1, 0, 1, 0, 1]", java.util.Arrays.toString(modulo));
        assertEquals("[0, 0, 0, 0, 1, 1, 1, 1]", java.util.Arrays.toString(grouped));
    }

    static void assertMessage(String prefix, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + ex.getMessage());
        assertTrue(ex.getMessage().contains("expected") && ex.getMessage().contains("got"), ex.getMessage());
    }
}
