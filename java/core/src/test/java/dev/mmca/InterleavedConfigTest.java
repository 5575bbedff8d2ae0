package dev.mmca;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The interleaved composition in the configuration: always causal, its image rule, and what refuses it. */
class InterleavedConfigTest {
    private static MmcaConfig.Builder interleaved() {
        return MmcaConfig.builder().composition(Composition.INTERLEAVED).dim(8).heads(2).dimHead(4);
    }

    @Test
    void interleavedIsCausalAndCarriesItsImageRule() {
        MmcaConfig c = interleaved().build();
        assertTrue(c.causal(), "causal by default");
        assertEquals(ImageAttention.SELF, c.imageAttention());
        assertEquals(ImageAttention.BLOCK, interleaved().imageAttention(ImageAttention.BLOCK).build().imageAttention());
        assertTrue(c.toString().contains("composition=INTERLEAVED, headMapping=MODULO, imageAttention=SELF"), c.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> interleaved().causal(false)
                .build());
        assertTrue(e.getMessage().startsWith("causal: composition INTERLEAVED is causal by definition"), e.getMessage());
    }

    @Test
    void otherCompositionsIgnoreTheImageRule() {
        MmcaConfig cross = MmcaConfig.builder().dim(8).heads(2).dimHead(4).imageAttention(ImageAttention.BLOCK).build();
        assertEquals(ImageAttention.SELF, cross.imageAttention(), "no image tokens: the rule is fixed");
        assertEquals(MmcaConfig.builder().dim(8).heads(2).dimHead(4).build(), cross);
        assertTrue(!cross.toString().contains("imageAttention"), cross.toString());
    }

    @Test
    void parsingNamesWhatIsAccepted() {
        assertEquals(Composition.INTERLEAVED, Composition.parse("Interleaved"));
        assertEquals(ImageAttention.BLOCK, ImageAttention.parse(" block"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ImageAttention.parse("all"));
        assertEquals("imageAttention: expected self or block, got 'all'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Composition.parse("both"));
        assertEquals("composition: expected cross, seed or interleaved, got 'both'", e.getMessage());
    }

    @Test
    void simpleMmcaRefusesTheInterleavedComposition() {
        MmcaConfig c = interleaved().build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SimpleMmca.create(c, MmcaWeights.random(c, 1), "java"));
        assertTrue(e.getMessage().startsWith("composition: INTERLEAVED is one attention block"), e.getMessage());
    }

    @Test
    void modalityFactoriesCheckShapesAndValues() {
        Modality m = Modality.parse("tti.", "iiit");
        assertEquals(2, m.batch());
        assertEquals(Modality.IMAGE, m.get(1, 0));
        assertEquals(3, m.realTokens(0));
        assertEquals("tti.", m.row(0));
        assertEquals(m, Modality.of(new int[] {1, 1, 2, 0, 2, 2, 2, 1}, 2, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Modality.parse("tt", "t"));
        assertEquals("rows[1]: expected 2 tokens (as rows[0]), got 1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Modality.parse("tx"));
        assertEquals("rows[0][1]: expected 't' (text), 'i' (image) or '.' (padding), got 'x'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Modality.of(new byte[3], 2, 2));
        assertEquals("values: expected 4 values for modality [2, 2], got 3", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Modality.of(new byte[0], 0, 2));
        assertTrue(e.getMessage().startsWith("modality shape: expected [batch, length] with at least one token"),
                e.getMessage());
    }
}
