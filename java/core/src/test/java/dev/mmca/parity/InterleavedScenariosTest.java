package dev.mmca.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.backend.Backend;
import dev.mmca.backend.PerturbedBackend;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.testing.InterleavedCases;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The interleaved composition in a parity check: its forward against the float64 reference and its decoding in
 * steps against the forward, on every rule; a broken path is found and named, drifting decoded rows fail, and the
 * steps never split an image under rule block.
 */
class InterleavedScenariosTest {
    private static final KernelPath JAVA = KernelPaths.of(JavaBackend.instance()).get(0);

    /** Padding before, inside and after images, text and images back to back. */
    private static final Modality LAYOUT = InterleavedCases.modality(".2 t3 i6 t2 i4 .1 i3 t4", "t1 i9 .3 t7 i5",
            "i2 t5 .2 i2 t1 i8 .5");

    private static MmcaConfig config(ImageAttention rule) {
        return InterleavedCases.config(24, 4, 2, 8, dev.mmca.HeadMapping.MODULO, false, rule);
    }

    private static ParityReport.Row row(ParityReport r, String path, String output) {
        return r.rows().stream().filter(x -> x.path().equals(path) && x.output().equals(output)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + path + " " + output + " in\n" + r.table()));
    }

    @Test
    void theJavaPathPassesOnBothRulesWithTheErrorsTheTestsMeasure() {
        for (ImageAttention rule : ImageAttention.values()) {
            MmcaConfig c = config(rule);
            MgqaWeights w = MgqaWeights.random(c, 11);
            FloatTensor x = SeededInputs.normal(12, LAYOUT.batch(), LAYOUT.length(), c.dim());
            ParityReport r = ParityCheck.builder(ParityScenarios.interleaved(c, w, x, LAYOUT)).paths(List.of(JAVA))
                    .build().run();
            assertTrue(r.passed(), rule + "\n" + r.table());
            assertEquals(2, r.rows().size(), r.table());
            double expected;
            try (InterleavedMmca m = InterleavedMmca.create(c, w, JavaBackend.instance())) {
                expected = Comparison.of(m.forward(x, LAYOUT), Reference64.interleaved(c, w, x, LAYOUT))
                        .relativeError();
            }
            ParityReport.Row forward = row(r, JAVA.id(), "forward.out");
            assertEquals("float64", forward.against());
            assertEquals(expected, forward.comparison().relativeError(), rule.label());
            assertEquals(Precision.FP32.relativeTolerance(), forward.tolerance());
            ParityReport.Row decoding = row(r, JAVA.id(), "decoding.out");
            assertEquals("forward.out", decoding.against());
            assertEquals(Precision.FP32.reorderingTolerance(), decoding.tolerance());
            assertEquals(ParityReport.Status.PASS, decoding.status());
        }
    }

    @Test
    void aPerturbedBackendFailsItsInterleavedForwardAndIsNamedWhileItsDecodingAgrees() {
        MmcaConfig c = config(ImageAttention.BLOCK);
        MgqaWeights w = MgqaWeights.random(c, 3);
        FloatTensor x = SeededInputs.normal(4, LAYOUT.batch(), LAYOUT.length(), c.dim());
        Backend broken = new PerturbedBackend(1e-3);
        ParityReport r = ParityCheck.builder(ParityScenarios.interleaved(c, w, x, LAYOUT))
                .paths(List.of(JAVA, KernelPath.asIs(broken))).build().run();
        assertFalse(r.passed(), r.table());
        assertEquals(List.of("perturbed/default"), List.copyOf(r.failedPaths()));
        ParityReport.Row forward = row(r, "perturbed/default", "forward.out");
        assertEquals(ParityReport.Status.FAIL, forward.status());
        assertTrue(forward.comparison().relativeError() > 5e-4 && forward.comparison().relativeError() < 2e-3,
                "about the perturbation: " + forward.comparison());
        assertTrue(forward.message().contains("above the fp32 bound 1e-05"), forward.message());
        assertEquals(ParityReport.Status.PASS, row(r, "perturbed/default", "decoding.out").status());
        assertEquals(ParityReport.Status.PASS, row(r, JAVA.id(), "forward.out").status());
    }

    @Test
    void decodedRowsThatDriftFromTheForwardFail() {
        MmcaConfig c = config(ImageAttention.SELF);
        MgqaWeights w = MgqaWeights.random(c, 5);
        FloatTensor x = SeededInputs.normal(6, LAYOUT.batch(), LAYOUT.length(), c.dim());
        ParityScenario decoding = new InterleavedDecodingScenario(c, w, x, LAYOUT);
        ParityScenario drifting = new DriftingScenario(decoding, "out", 1e-5f);
        List<ParityScenario> scenarios = new ArrayList<>();
        scenarios.add(new InterleavedForwardScenario(c, w, x, LAYOUT));
        scenarios.add(drifting);
        ParityReport r = ParityCheck.builder(scenarios).paths(List.of(JAVA)).build().run();
        assertFalse(r.passed(), r.table());
        assertEquals(ParityReport.Status.PASS, row(r, JAVA.id(), "forward.out").status());
        ParityReport.Row out = row(r, JAVA.id(), "decoding.out");
        assertEquals(ParityReport.Status.FAIL, out.status());
        assertTrue(out.message().contains("against forward.out is above the fp32 bound 1e-06"), out.message());
    }

    @Test
    void stepsCoverTheSequenceAndUnderRuleBlockNeverSplitAnImage() {
        assertArrayEquals(new int[] {1, 4, 5, 12, 14, 19, 20, 23, 24, 31, 33, 38}, InterleavedDecodingScenario
                .stepEnds(InterleavedCases.modality("t38"), ImageAttention.SELF));
        for (Modality m : List.of(LAYOUT, SeededInputs.modality(7, 4, 61), InterleavedCases.modality("i40"))) {
            int[] block = InterleavedDecodingScenario.stepEnds(m, ImageAttention.BLOCK);
            assertEquals(m.length(), block[block.length - 1]);
            for (int i = 0; i < block.length - 1; i++) {
                assertTrue(block[i] < block[i + 1], "increasing");
                for (int b = 0; b < m.batch(); b++) {
                    String row = m.row(b);
                    String before = row.substring(0, block[i]).replace(".", "");
                    String after = row.substring(block[i]).replace(".", "");
                    assertFalse(before.endsWith("i") && after.startsWith("i"), "an image split at " + block[i]
                            + " in " + row);
                }
            }
        }
        assertArrayEquals(new int[] {40}, InterleavedDecodingScenario.stepEnds(InterleavedCases.modality("i40"),
                ImageAttention.BLOCK), "one image: one step");
    }

    @Test
    void aModelOfAnotherCompositionIsRefusedNamingTheConfig() {
        MmcaConfig cross = MmcaConfig.builder().dim(8).heads(2).kvHeads(1).dimHead(4).build();
        MgqaWeights w = MgqaWeights.random(config(ImageAttention.SELF), 1);
        FloatTensor x = SeededInputs.normal(1, 1, 3, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ParityScenarios.interleaved(cross, w, x, Modality.parse("tit")));
        assertEquals("config: expected composition INTERLEAVED, got CROSS", e.getMessage());
    }

    @Test
    void seededLayoutsAreReproducibleAndHoldEveryModality() {
        Modality a = SeededInputs.modality(9, 3, 200);
        assertEquals(a, SeededInputs.modality(9, 3, 200));
        assertFalse(a.equals(SeededInputs.modality(10, 3, 200)), "another seed, another layout");
        String all = a.row(0) + a.row(1) + a.row(2);
        assertTrue(all.contains("t") && all.contains("i") && all.contains("."), all);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SeededInputs.modality(1, 0, 5));
        assertTrue(e.getMessage().startsWith("shape: expected [batch, length]"), e.getMessage());
    }
}
