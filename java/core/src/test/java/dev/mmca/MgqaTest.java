package dev.mmca;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.java.JavaBackend;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MgqaTest {
    @ParameterizedTest(name = "H={0} G={1} D={2} causal={3} qkNorm={4} {5} context={6}")
    @CsvSource({
        "4, 1, 16, true, false, MODULO, false",
        "4, 4, 8, false, true, GROUPED, false",
        "6, 2, 80, true, false, GROUPED, true",
        "6, 3, 5, true, true, MODULO, true",
        "8, 2, 12, false, false, MODULO, true"})
    void blockMatchesFloat64Reference(int heads, int kvHeads, int dimHead, boolean causal, boolean qkNorm,
            HeadMapping mapping, boolean withContext) {
        MmcaConfig c = MmcaConfig.builder().dim(30).heads(heads).kvHeads(kvHeads).dimHead(dimHead).causal(causal)
                .qkNorm(qkNorm).headMapping(mapping).build();
        MgqaWeights w = MmcaWeights.random(c, heads * 31L + kvHeads).cross();
        int b = 3;
        int n = 11;
        int m = withContext ? 17 : n;
        FloatTensor x = RandomInputs.normal(new SplittableRandom(heads).nextLong(), b, n, 30);
        FloatTensor ctx = withContext ? RandomInputs.normal(99, b, m, 30) : null;
        Mask mask = RandomInputs.randomLengths(5, b, n, 0);
        Mask ctxMask = withContext ? RandomInputs.scattered(6, b, m, 0.6) : null;
        FloatTensor out = Mgqa.create(c, w, JavaBackend.instance()).forward(x, ctx, mask, ctxMask);
        double[][][] ref = Reference64.mgqa(c, w, Reference64.toDouble(x), ctx == null ? null : Reference64.toDouble(ctx),
                Reference64.toBool(mask, b, n), ctxMask == null ? null : Reference64.toBool(ctxMask, b, m), causal);
        double err = Reference64.relativeError(out, ref);
        assertTrue(err <= Precision.FP32.relativeTolerance(), "relative error " + err);
    }

    @org.junit.jupiter.api.Test
    void rejectsAContextMaskWithoutContextAndMismatchedShapes() {
        MmcaConfig c = MmcaConfig.builder().dim(8).heads(2).dimHead(4).build();
        Mgqa block = Mgqa.create(c, MmcaWeights.random(c, 1).visualSelf(), JavaBackend.instance());
        FloatTensor x = RandomInputs.normal(1, 2, 3, 8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> block.forward(x, null, null, Mask.all(2, 3)));
        assertTrue(e.getMessage().startsWith("contextMask:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> block.forward(x, RandomInputs.normal(2, 1, 3, 8), null, null));
        assertTrue(e.getMessage().startsWith("context: expected shape [2, tokens, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> block.forward(x, Mask.all(2, 4)));
        assertTrue(e.getMessage().startsWith("mask: expected shape [2, 3], got [2, 4]"), e.getMessage());
    }
}
