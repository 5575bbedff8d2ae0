package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Reference64;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The fused MMCA text operation: causal self-attention over the text and cross-attention to the
 * visual tokens, two softmaxes in one launch, outputs side by side; each half against the oracle.
 */
class CudaTextOperationTest {
    @BeforeEach
    void needsGpu() {
        GpuTestSupport.assumeGpu();
    }

    @ParameterizedTest
    @EnumSource(CudaPrecision.class)
    void bothHalvesMatchTheirOwnAttention(CudaPrecision precision) {
        int b = 2;
        int nt = 45;
        int nv = 70;
        int heads = 4;
        int kv = 2;
        int d = 64;
        int hd = heads * d;
        int gd = kv * d;
        Mask textMask = RandomInputs.randomLengths(21, b, nt, 20);
        Mask visualMask = RandomInputs.scattered(22, b, nv, 0.7);
        AttentionProblem self = AttentionProblem.builder().batch(b).heads(heads).kvHeads(kv).queries(nt).keys(nt)
                .dimHead(d).causal(true).headMapping(HeadMapping.MODULO).keyMask(textMask).queryMask(textMask).build();
        AttentionProblem cross = AttentionProblem.builder().batch(b).heads(heads).kvHeads(kv).queries(nt).keys(nv)
                .dimHead(d).causal(false).headMapping(HeadMapping.MODULO).keyMask(visualMask).queryMask(textMask)
                .build();
        FloatTensor qs = RandomInputs.normal(1, b, nt, hd);
        FloatTensor ks = RandomInputs.normal(2, b, nt, gd);
        FloatTensor vs = RandomInputs.normal(3, b, nt, gd);
        FloatTensor qc = RandomInputs.normal(4, b, nt, hd);
        FloatTensor kc = RandomInputs.normal(5, b, nv, gd);
        FloatTensor vc = RandomInputs.normal(6, b, nv, gd);
        AttentionProblem selfBare = bare(self);
        AttentionProblem crossBare = bare(cross);
        try (DeviceTensors dev = new DeviceTensors(precision.dtype())) {
            long out = dev.poisonedOutput((long) b * nt * 2 * hd);
            CudaAttention.text(0, selfBare, crossBare, precision,
                    dev.input(qs), dev.input(ks), dev.input(vs), dev.mask(textMask),
                    dev.input(qc), dev.input(kc), dev.input(vc), dev.mask(visualMask),
                    dev.mask(textMask), out, 0L);
            CudaAttention.synchronize(0, 0L);
            float[] both = dev.read(out, b, nt, 2 * hd).toArray();
            float[] a = new float[b * nt * hd];
            float[] c = new float[b * nt * hd];
            for (int r = 0; r < b * nt; r++) {
                System.arraycopy(both, r * 2 * hd, a, r * hd, hd);
                System.arraycopy(both, r * 2 * hd + hd, c, r * hd, hd);
            }
            double tol = GpuTestSupport.tolerance(precision);
            double errSelf = Reference64.relativeError(FloatTensor.of(a, b, nt, hd), Reference64.attention(self, qs, ks, vs));
            double errCross = Reference64.relativeError(FloatTensor.of(c, b, nt, hd), Reference64.attention(cross, qc, kc, vc));
            assertTrue(errSelf <= tol, precision + " self: " + errSelf);
            assertTrue(errCross <= tol, precision + " cross: " + errCross);
        }
    }

    private static AttentionProblem bare(AttentionProblem p) {
        return AttentionProblem.builder().batch(p.batch()).heads(p.heads()).kvHeads(p.kvHeads()).queries(p.queries())
                .keys(p.keys()).dimHead(p.dimHead()).scale(p.scale()).causal(p.causal()).qkNorm(p.qkNorm())
                .headMapping(p.headMapping()).build();
    }
}
