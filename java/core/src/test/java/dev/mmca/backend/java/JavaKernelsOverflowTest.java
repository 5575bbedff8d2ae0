package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.NumericOverflowException;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.plan.AttentionCallPlan;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.PlanIo;
import dev.mmca.testing.OverflowChecks;
import dev.mmca.testing.RandomInputs;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every Java kernel set reports the first place where finite inputs overflow float32, whichever task (or key
 * chunk) meets it and however many tasks meet one, and reports nothing for finite results.
 */
class JavaKernelsOverflowTest {
    private static final float HUGE = 1e20f;

    @Test
    void aProjectionReportsItsFirstNonFiniteOutput() {
        // 170 rows and 90 columns: several row blocks and column panels on both kernel sets
        int rows = 170;
        int in = 300;
        int out = 90;
        float[] w = RandomInputs.normal(1, out, in).array();
        float[] x = RandomInputs.normal(2, rows, in).array();
        // only y[3, 7] and y[150, 30] exceed float32: one huge input times one huge weight each
        w[7 * in + 11] = HUGE;
        x[3 * in + 11] = HUGE;
        w[30 * in + 200] = HUGE;
        x[150 * in + 200] = HUGE;
        PackedWeight packed = PackedWeight.stack("w", FloatTensor.of(w, out, in));
        for (JavaKernels k : KernelSets.all()) {
            JavaKernels.Projection p = k.projection(packed);
            float[] y = new float[rows * out];
            assertEquals(3L * out + 7, p.apply(x, 0, rows, y, 0), k.name());
            // the second overflow alone, from rows past the first
            float[] tail = new float[(rows - 100) * out];
            assertEquals(50L * out + 30, p.apply(x, 100 * in, rows - 100, tail, 0), k.name() + ", rows from 100");
            float[] finite = new float[3 * out];
            assertEquals(-1L, p.apply(x, 0, 3, finite, 0), k.name() + ", rows 0-2 are finite");
        }
    }

    @Test
    void attentionReportsTheFirstRowWithAnInfiniteScore() {
        // batch element 1, queries 4 and 9 of head 0 have scores of about 1e40 against every key
        AttentionProblem p = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(12).keys(40).dimHead(8)
                .build();
        FloatTensor[] qkv = inputs(p, 3);
        for (int j = 0; j < p.keys(); j++) {
            set(qkv[1], 1, j, 0, HUGE);
        }
        set(qkv[0], 1, 4, 0, HUGE);
        set(qkv[0], 1, 9, 0, HUGE);
        for (JavaKernels k : KernelSets.all()) {
            assertOverflowAt(k, p, qkv, "batch element 1, query 4 ");
        }
    }

    @Test
    void attentionReportsAnOverflowInOneKeyChunkOfASplitCall() {
        // one query over 700 keys: one work item, so the keys split into chunks; every score of the first chunk
        // (keys 0-255) overflows (NaN, inf - inf, where products are rounded before they are added; +inf where
        // the products are fused into the sum), the later chunks' scores are finite
        AttentionProblem p = AttentionProblem.builder().batch(1).heads(2).kvHeads(1).queries(1).keys(700)
                .dimHead(16).build();
        FloatTensor[] qkv = inputs(p, 4);
        for (int j = 0; j < 256; j++) {
            set(qkv[1], 0, j, 0, HUGE);
            set(qkv[1], 0, j, 1, HUGE);
        }
        set(qkv[0], 0, 0, 0, HUGE);
        set(qkv[0], 0, 0, 1, -HUGE);
        for (JavaKernels k : KernelSets.all()) {
            assertOverflowAt(k, p, qkv, "batch element 0, query 0 ");
        }
    }

    @Test
    void attentionOnFiniteScoresReportsNothing() {
        // scores of about 1e20 are finite: their softmax puts all weight on the largest, and no error is raised
        AttentionProblem p = AttentionProblem.builder().batch(1).heads(2).kvHeads(1).queries(3).keys(300)
                .dimHead(8).build();
        FloatTensor[] qkv = inputs(p, 5);
        set(qkv[0], 0, 1, 0, HUGE);
        for (JavaKernels k : KernelSets.all()) {
            FloatTensor out = run(k, p, qkv);
            assertTrue(out.firstNonFinite() < 0, k.name() + ": non-finite output at " + out.firstNonFinite());
        }
    }

    @Test
    void attentionReportsARowWhoseEveryVisibleScoreIsMinusInfinity() {
        for (JavaKernels k : KernelSets.all()) {
            OverflowChecks.scoresOverflowingDownwardsAreRefused(call(k), false);
        }
    }

    @Test
    void aDecodingStepOverACacheReportsARowWhoseEveryScoreIsMinusInfinity() {
        for (JavaKernels k : KernelSets.all()) {
            OverflowChecks.cacheRowsOverflowingDownwardsAreRefused(new JavaMachine(List.of(), k));
        }
    }

    @Test
    void minusInfiniteScoresBesideFiniteOnesAndRowsWithoutKeysReportNothing() {
        for (JavaKernels k : KernelSets.all()) {
            OverflowChecks.harmlessInfiniteScoresStillCompute(call(k));
        }
    }

    /** {@link dev.mmca.backend.Backend#attention}'s plan (masks included) on kernel set {@code k}. */
    private static OverflowChecks.AttentionCall call(JavaKernels k) {
        return (p, q, kk, v, out) -> {
            AttentionCallPlan call = AttentionCallPlan.of(p);
            PlanIo io = new PlanIo().tensor(call.q, q).tensor(call.k, kk).tensor(call.v, v).tensor(call.out, out)
                    .mask(call.keyMask, p.keyMask()).mask(call.queryMask, p.queryMask());
            new JavaMachine(List.of(), k).run(call.plan, io);
        };
    }

    private static void assertOverflowAt(JavaKernels k, AttentionProblem p, FloatTensor[] qkv, String where) {
        NumericOverflowException e = assertThrows(NumericOverflowException.class, () -> run(k, p, qkv), k.name());
        assertTrue(e.getMessage().startsWith("attention: the attention scores overflowed float32 at " + where),
                k.name() + ": " + e.getMessage());
    }

    /** {@code t[b, row, column] = value} for a {@code [batch, rows, width]} tensor. */
    private static void set(FloatTensor t, int b, int row, int column, float value) {
        t.set((b * t.dim(1) + row) * t.dim(2) + column, value);
    }

    private static FloatTensor[] inputs(AttentionProblem p, long seed) {
        return new FloatTensor[] {
            RandomInputs.normal(seed, p.batch(), p.queries(), p.heads() * p.dimHead()),
            RandomInputs.normal(seed + 1, p.batch(), p.keys(), p.kvHeads() * p.dimHead()),
            RandomInputs.normal(seed + 2, p.batch(), p.keys(), p.kvHeads() * p.dimHead())};
    }

    private static FloatTensor run(JavaKernels k, AttentionProblem p, FloatTensor[] qkv) {
        FloatTensor out = FloatTensor.zeros(p.batch(), p.queries(), p.heads() * p.dimHead());
        AttentionCallPlan call = AttentionCallPlan.of(p);
        PlanIo io = new PlanIo().tensor(call.q, qkv[0]).tensor(call.k, qkv[1]).tensor(call.v, qkv[2])
                .tensor(call.out, out);
        new JavaMachine(List.of(), k).run(call.plan, io);
        return out;
    }
}
