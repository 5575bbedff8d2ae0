package dev.mmca.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.TextSession;
import dev.mmca.VisualContext;
import dev.mmca.backend.Backend;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * The checks of incremental decoding every backend passes: text decoded in steps (of varying size, with
 * padding, per-element lengths) equals the rows of a full forward over the whole text; rollback; growth;
 * refusals. Shared by the backends' test suites.
 */
public final class DecodingChecks {
    /** Decoded rows vs the forward's: the same computation in a different order (relative error). */
    public static final double TOLERANCE = Precision.FP32.reorderingTolerance();

    private DecodingChecks() {
    }

    /** One configuration of the sweep. */
    public record Case(String name, MmcaConfig config, int batch, int nv, int nt, long seed) {
        @Override
        public String toString() {
            return name;
        }
    }

    public static List<Case> cases() {
        List<Case> all = new ArrayList<>();
        all.add(new Case("gqa-modulo", MmcaConfig.builder().dim(24).heads(4).kvHeads(2).dimHead(8).build(), 2, 7, 13, 1));
        all.add(new Case("mqa-grouped-qknorm", MmcaConfig.builder().dim(20).heads(6).kvHeads(1).dimHead(16).qkNorm(true)
                .headMapping(HeadMapping.GROUPED).build(), 3, 5, 9, 2));
        all.add(new Case("mha-odd", MmcaConfig.builder().dim(17).heads(3).kvHeads(3).dimHead(5).build(), 1, 11, 21, 3));
        all.add(new Case("long-text", MmcaConfig.builder().dim(32).heads(8).kvHeads(2).dimHead(16)
                .headMapping(HeadMapping.GROUPED).build(), 2, 9, 300, 4));
        return all;
    }

    /**
     * Feeds the text of {@code c} through a session in steps of 1, 3, 1, 7, ... tokens with a random padding
     * mask (a padding token's row is zero and it is not cached), and compares every row with the forward over
     * the whole text: the forward sees the real tokens in the same order, with padding masked.
     */
    public static void stepsEqualTheForward(Backend backend, Case c) {
        MmcaWeights w = MmcaWeights.random(c.config(), c.seed());
        FloatTensor v = RandomInputs.normal(c.seed() + 1, c.batch(), c.nv(), c.config().dim());
        FloatTensor t = RandomInputs.normal(c.seed() + 2, c.batch(), c.nt(), c.config().dim());
        Mask vm = RandomInputs.randomLengths(c.seed() + 3, c.batch(), c.nv(), 1);
        Mask tm = RandomInputs.scattered(c.seed() + 4, c.batch(), c.nt(), 0.8);
        int dim = c.config().dim();
        try (SimpleMmca model = SimpleMmca.create(c.config(), w, backend)) {
            MmcaOutput full = model.forward(v, t, vm, tm);
            try (VisualContext ctx = model.encodeVisual(v, vm);
                    TextSession session = model.newTextSession(ctx, c.nt())) {
                assertArrayEquals(full.visual().toArray(), ctx.visualOutput().toArray(), "visual output");
                int[] steps = {1, 3, 1, 7, 2, 5};
                int at = 0;
                int[] expectLengths = new int[c.batch()];
                for (int s = 0; at < c.nt(); s++) {
                    int n = Math.min(steps[s % steps.length], c.nt() - at);
                    FloatTensor part = slice(t, at, n);
                    Mask partMask = sliceMask(tm, at, n);
                    FloatTensor got = session.append(part, partMask);
                    FloatTensor want = slice(full.text(), at, n);
                    double err = relativeError(got, want);
                    assertTrue(err <= TOLERANCE, c + " tokens [" + at + ", " + (at + n) + "): relative error " + err);
                    for (int b = 0; b < c.batch(); b++) {
                        for (int i = 0; i < n; i++) {
                            if (!partMask.get(b, i)) {
                                for (int e = 0; e < dim; e++) {
                                    assertEquals(0f, got.get(((b * n) + i) * dim + e), "padding row is zero");
                                }
                            } else {
                                expectLengths[b]++;
                            }
                        }
                    }
                    at += n;
                }
                assertArrayEquals(expectLengths, session.lengths(), "padding tokens are not cached");
            }
        }
    }

    /** Truncating and appending again gives the same rows as the first time (beam search, speculation). */
    public static void rollbackRecomputesTheSameRows(Backend backend) {
        Case c = cases().get(0);
        MmcaWeights w = MmcaWeights.random(c.config(), 9);
        FloatTensor v = RandomInputs.normal(10, c.batch(), c.nv(), c.config().dim());
        FloatTensor t = RandomInputs.normal(11, c.batch(), 12, c.config().dim());
        try (SimpleMmca model = SimpleMmca.create(c.config(), w, backend);
                VisualContext ctx = model.encodeVisual(v, null);
                TextSession session = model.newTextSession(ctx, 12)) {
            session.append(slice(t, 0, 8), null);
            FloatTensor first = session.append(slice(t, 8, 4), null);
            session.truncate(8);
            assertArrayEquals(new int[] {8, 8}, session.lengths());
            FloatTensor other = session.append(RandomInputs.normal(12, c.batch(), 4, c.config().dim()), null);
            assertTrue(relativeError(other, first) > 1e-3, "other tokens give other rows");
            session.truncate(8);
            assertTrue(relativeError(session.append(slice(t, 8, 4), null), first) <= TOLERANCE, "all rolled back");
            // per element: element 1 goes back to 6 tokens and catches up alone (element 0's step is padding)
            session.truncate(new int[] {8, 6});
            assertArrayEquals(new int[] {8, 6}, session.lengths());
            session.append(slice(t, 6, 2), Mask.of(new boolean[] {false, false, true, true}, 2, 2));
            assertArrayEquals(new int[] {8, 8}, session.lengths());
            assertTrue(relativeError(session.append(slice(t, 8, 4), null), first) <= TOLERANCE, "element 1 rolled back");
            session.truncate(new int[] {12, 12});
            assertArrayEquals(new int[] {12, 12}, session.lengths(), "truncate never lengthens");
            assertThrows(IllegalArgumentException.class, () -> session.truncate(new int[] {1}));
            assertThrows(IllegalArgumentException.class, () -> session.truncate(-1));
        }
    }

    /**
     * Past the capacity an append is refused and leaves the session as it was; a growable session grows; a
     * failed append (NaN) changes nothing; SEED and non-causal models refuse to decode; one writer at a time.
     */
    public static void refusalsAndGrowth(Backend backend) throws Exception {
        Case c = cases().get(0);
        MmcaWeights w = MmcaWeights.random(c.config(), 13);
        FloatTensor v = RandomInputs.normal(14, c.batch(), c.nv(), c.config().dim());
        FloatTensor t = RandomInputs.normal(15, c.batch(), 10, c.config().dim());
        try (SimpleMmca model = SimpleMmca.create(c.config(), w, backend);
                VisualContext ctx = model.encodeVisual(v, null)) {
            FloatTensor full = model.forward(v, t).text();
            try (TextSession fixed = model.newTextSession(ctx, 4)) {
                fixed.append(slice(t, 0, 3), null);
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> fixed.append(slice(t, 3, 2),
                        null));
                assertTrue(e.getMessage().contains("past the capacity 4"), e.getMessage());
                assertArrayEquals(new int[] {3, 3}, fixed.lengths(), "a refused append changes nothing");
                FloatTensor bad = slice(t, 3, 1);
                bad.set(5, Float.NaN);
                IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> fixed.append(bad,
                        null));
                assertTrue(nan.getMessage().startsWith("text: expected finite values"), nan.getMessage());
                assertArrayEquals(new int[] {3, 3}, fixed.lengths(), "a failed append changes nothing");
                assertTrue(relativeError(fixed.append(slice(t, 3, 1), null), slice(full, 3, 1)) <= TOLERANCE);
                assertThrows(IllegalArgumentException.class, () -> fixed.append(RandomInputs.normal(1, 2, 1, 5), null));
            }
            try (TextSession growing = model.newTextSession(ctx, 2, true)) {
                FloatTensor a = growing.append(slice(t, 0, 3), null);
                FloatTensor b = growing.append(slice(t, 3, 7), null);
                assertTrue(growing.capacity() >= 10, "grew to " + growing.capacity());
                assertTrue(relativeError(a, slice(full, 0, 3)) <= TOLERANCE, "before growing");
                assertTrue(relativeError(b, slice(full, 3, 7)) <= TOLERANCE, "after growing");
            }
            TextSession busy = model.newTextSession(ctx, 64);
            CountDownLatch inside = new CountDownLatch(1);
            // one writer at a time: a second thread's append while one runs is refused
            Thread slow = new Thread(() -> {
                for (int i = 0; i < 200; i++) {
                    try {
                        busy.truncate(0);
                        busy.append(slice(t, 0, 10), null);
                    } catch (IllegalStateException expected) {
                        // the other thread holds it
                    }
                    inside.countDown();
                }
            });
            slow.start();
            inside.await();
            int refused = 0;
            for (int i = 0; i < 200 && slow.isAlive(); i++) {
                try {
                    busy.truncate(0);
                } catch (IllegalStateException e) {
                    assertTrue(e.getMessage().contains("one writer at a time"), e.getMessage());
                    refused++;
                }
            }
            slow.join();
            busy.close();
            assertThrows(IllegalStateException.class, () -> busy.append(slice(t, 0, 1), null));
            ctx.close();
            try (TextSession orphan = model.newTextSession(ctx, 4)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, () -> orphan.append(slice(t, 0, 1),
                        null));
                assertTrue(e.getMessage().contains("VisualContext: used after close()"), e.getMessage());
            }
            System.out.println("concurrent uses refused: " + refused);
        }
        MmcaConfig seed = c.config().toBuilder().composition(Composition.SEED).build();
        try (SimpleMmca model = SimpleMmca.create(seed, MmcaWeights.random(seed, 1), backend)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.encodeVisual(v, null));
            assertTrue(e.getMessage().contains("composition SEED"), e.getMessage());
        }
        MmcaConfig bidirectional = c.config().toBuilder().causal(false).build();
        try (SimpleMmca model = SimpleMmca.create(bidirectional, MmcaWeights.random(bidirectional, 1), backend)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.encodeVisual(v, null));
            assertTrue(e.getMessage().contains("not causal"), e.getMessage());
        }
    }

    /** Tokens {@code [from, from + n)} of every batch element, as a new tensor. */
    public static FloatTensor slice(FloatTensor t, int from, int n) {
        return t.tokens(from, n);
    }

    static Mask sliceMask(Mask m, int from, int n) {
        return m.tokens(from, n);
    }

    static double relativeError(FloatTensor got, FloatTensor want) {
        return Comparison.of(got, want).relativeError();
    }

}
