package dev.mmca.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Reference64;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The interleaved composition, independent of any backend: its forward plan interpreted in double precision
 * (operands, strides, modality, rules as the plan states them) equals the float64 oracle, and the oracle itself
 * agrees with what the rules reduce to in special cases.
 */
class InterleavedPlanTest {
    static Stream<InterleavedCases.Case> cases() {
        return InterleavedCases.sweep(30).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void planInFloat64EqualsTheOracle(InterleavedCases.Case c) {
        MgqaWeights w = MgqaWeights.random(c.config(), c.seed());
        FloatTensor x = RandomInputs.normal(c.seed() + 1, c.batch(), c.tokens(), c.config().dim());
        InterleavedPlan plan = InterleavedPlan.of(c.config());
        InterleavedPlan.Forward f = plan.forward(c.batch(), c.tokens());
        PlanInterpreter run = new PlanInterpreter(plan.packWeights(w));
        run.input(f.tokens, x);
        run.modality(f.modality, c.modality());
        f.plan.run(run);
        double err = run.error(f.out, Reference64.interleaved(c.config(), w, x, c.modality()));
        // the only float32 in the interpreted plan is the logit scale (D^-0.5 rounded once)
        assertTrue(err < 1e-7, "relative error " + err);
        assertEquals(2, f.plan.ops().stream().filter(op -> op instanceof LinearOp).count(), "two GEMMs");
        assertEquals(1, f.plan.ops().stream().filter(op -> op instanceof InterleavedAttentionOp).count());
    }

    /** Without images every token is a text token with one group: causal grouped-query self-attention. */
    @Test
    void withoutImagesTheOracleIsCausalAttention() {
        MmcaConfig c = InterleavedCases.config(12, 4, 2, 8, HeadMapping.GROUPED, false, ImageAttention.SELF);
        MgqaWeights w = MgqaWeights.random(c, 3);
        FloatTensor x = RandomInputs.normal(4, 2, 9, 12);
        double[][][] got = Reference64.interleaved(c, w, x, Modality.parse("ttttttttt", "ttttttttt"));
        double[][][] causal = Reference64.mgqa(c, w, Reference64.toDouble(x), null, null, null, true);
        assertTrue(distance(got, causal) < 1e-12, "distance " + distance(got, causal));
    }

    /**
     * Rule self: an image token's image group is itself (weight 1 on its own value), so with the text tokens
     * removed ("only-images") its attention output is its value and {@code out = v Wo^T}; rule block averages its
     * image instead, which differs.
     */
    @Test
    void ruleSelfGivesAnImageTokenItsOwnValue() {
        MmcaConfig c = InterleavedCases.config(10, 2, 2, 5, HeadMapping.MODULO, false, ImageAttention.SELF);
        MgqaWeights w = MgqaWeights.random(c, 5);
        FloatTensor x = RandomInputs.normal(6, 1, 4, 10);
        Modality images = Modality.parse("iiii");
        double[][][] got = Reference64.interleaved(c, w, x, images);
        double[][] xd = Reference64.toDouble(x)[0];
        for (int i = 0; i < 4; i++) {
            for (int o = 0; o < 10; o++) {
                double want = 0;
                for (int hdx = 0; hdx < 10; hdx++) {
                    double vi = 0;
                    for (int e = 0; e < 10; e++) {
                        vi += xd[i][e] * w.toV().get(hdx * 10 + e);
                    }
                    want += vi * w.toOut().get(o * 10 + hdx);  // H = G: head h reads kv head h
                }
                assertEquals(want, got[0][i][o], 1e-12, "token " + i + ", column " + o);
            }
        }
        MmcaConfig block = c.toBuilder().imageAttention(ImageAttention.BLOCK).build();
        assertTrue(distance(Reference64.interleaved(block, w, x, images), got) > 1e-3, "block differs from self");
    }

    @Test
    void theOpRefusesWhatItCannotMean() {
        Plan.Builder p = Plan.builder();
        Buffer qkv = p.input("qkv", 2 * 5, 3 * 8);
        Buffer o = p.output("o", 2 * 5, 8);
        Buffer mod = p.modalityInput("modality", 2, 5);
        Buffer wrong = p.modalityInput("modality", 2, 4);
        AttentionOp.Builder a = AttentionOp.builder("attention").sizes(2, 1, 1, 5, 5, 8)
                .q(qkv, 0).k(qkv, 8).v(qkv, 16).o(o, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new InterleavedAttentionOp(
                a.flags(0.5f, false, false, HeadMapping.MODULO).build(), mod, ImageAttention.SELF));
        assertTrue(e.getMessage().contains("causal"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new InterleavedAttentionOp(
                a.flags(0.5f, true, false, HeadMapping.MODULO).build(), wrong, ImageAttention.SELF));
        assertTrue(e.getMessage().startsWith("attention.modality: expected a [2, 5] byte tensor"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new InterleavedAttentionOp(
                a.flags(0.5f, true, false, HeadMapping.MODULO).queryMask(mod).build(), mod, ImageAttention.SELF));
        assertTrue(e.getMessage().contains("no key or query mask"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InterleavedPlan.of(MmcaConfig.builder().dim(8).heads(1)
                .dimHead(8).build()));
        assertTrue(e.getMessage().startsWith("composition: expected INTERLEAVED"), e.getMessage());
    }

    static double distance(double[][][] a, double[][][] b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                for (int k = 0; k < a[i][j].length; k++) {
                    num += (a[i][j][k] - b[i][j][k]) * (a[i][j][k] - b[i][j][k]);
                    den += b[i][j][k] * b[i][j][k];
                }
            }
        }
        return Math.sqrt(num / den);
    }
}
