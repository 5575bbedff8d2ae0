package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.parity.ParityCase;
import dev.mmca.parity.ParityCases;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.parity.SeededInputs;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class JavaBackendParityTest {
    static final double TOLERANCE = Precision.FP32.relativeTolerance();

    static List<ParityCase> cases() {
        return ParityCases.sweep(40);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void simpleMmcaMatchesFloat64Reference(ParityCase c) {
        MmcaWeights w = c.weights();
        FloatTensor v = c.visual();
        FloatTensor t = c.text();
        Reference64.Output ref = Reference64.simpleMmca(c.config(), w, v, t, c.visualMask(), c.textMask());
        try (SimpleMmca model = SimpleMmca.create(c.config(), w, JavaBackend.instance())) {
            MmcaOutput out = model.forward(v, t, c.visualMask(), c.textMask());
            double ev = Reference64.relativeError(out.visual(), ref.visual);
            double et = Reference64.relativeError(out.text(), ref.text);
            assertTrue(ev <= TOLERANCE, "visual relative error " + ev);
            assertTrue(et <= TOLERANCE, "text relative error " + et);
            assertMaskedRowsZero(out.visual(), c.visualMask(), c.config().dim());
            assertMaskedRowsZero(out.text(), c.textMask(), c.config().dim());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void directBuffersGiveTheSameBitsAsArrays(ParityCase c) {
        MmcaWeights w = c.weights();
        FloatTensor v = c.visual();
        FloatTensor t = c.text();
        try (SimpleMmca model = SimpleMmca.create(c.config(), w, JavaBackend.instance())) {
            MmcaOutput heap = model.forward(v, t, c.visualMask(), c.textMask());
            MmcaOutput direct = model.forward(SeededInputs.direct(v), SeededInputs.direct(t), c.visualMask(),
                    c.textMask());
            assertTrue(direct.visual().isDirect());
            assertEquals(java.util.Arrays.toString(heap.visual().toArray()),
                    java.util.Arrays.toString(direct.visual().toArray()));
            assertEquals(java.util.Arrays.toString(heap.text().toArray()),
                    java.util.Arrays.toString(direct.text().toArray()));
        }
    }

    static void assertMaskedRowsZero(FloatTensor out, Mask mask, int dim) {
        if (mask == null) {
            return;
        }
        for (int b = 0; b < mask.batch(); b++) {
            for (int i = 0; i < mask.length(); i++) {
                if (!mask.get(b, i)) {
                    for (int e = 0; e < dim; e++) {
                        assertEquals(0f, out.get((b * mask.length() + i) * dim + e), "masked row " + b + "," + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "causal={0} mapping={1} qkNorm={2}")
    @org.junit.jupiter.params.provider.CsvSource({
        "true, MODULO, false", "true, GROUPED, false", "false, GROUPED, true", "false, MODULO, false"})
    void attentionAloneMatchesFloat64Reference(boolean causal, HeadMapping mapping, boolean qkNorm) {
        // N != M with the right-aligned causal offset, tiles crossing in both directions
        int b = 2;
        int h = 8;
        int g = 2;
        int n = 45;
        int m = 77;
        int d = 20;
        Mask keyMask = SeededInputs.scattered(5, b, m, 0.8);
        Mask queryMask = SeededInputs.randomLengths(6, b, n, 30);
        AttentionProblem p = AttentionProblem.builder().batch(b).heads(h).kvHeads(g).queries(n).keys(m)
                .dimHead(d).causal(causal).headMapping(mapping).qkNorm(qkNorm).keyMask(keyMask)
                .queryMask(queryMask).build();
        FloatTensor q = SeededInputs.normal(1, b, n, h * d);
        FloatTensor k = SeededInputs.normal(2, b, m, g * d);
        FloatTensor v = SeededInputs.normal(3, b, m, g * d);
        FloatTensor out = FloatTensor.zeros(b, n, h * d);
        java.util.Arrays.fill(out.array(), Float.NaN); // unwritten elements would fail
        JavaBackend.instance().attention(p, q, k, v, out);
        double err = Reference64.relativeError(out, Reference64.attention(p, q, k, v));
        assertTrue(err <= TOLERANCE, "relative error " + err);
    }
}
