package dev.mmca.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.parity.InterleavedDecodingScenario;
import dev.mmca.parity.Reference64;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.InterleavedSession;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.NumericOverflowException;
import dev.mmca.backend.Backend;
import dev.mmca.backend.InterleavedProblem;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks of interleaved attention every backend passes (SPEC "Interleaved MMCA"): the model and the attention
 * call against the float64 oracle, padding rows exactly zero, decoding in steps equal to the forward's rows,
 * the block rule's refusal of a split image, and clear errors for bad input. Shared by the backends' suites.
 */
public final class InterleavedChecks {
    /** SPEC "Numerics": a float32 backend against the float64 reference. */
    public static final double TOLERANCE = 1e-5;
    /** Decoded rows vs the forward's: the same computation in another order. */
    public static final double DECODING_TOLERANCE = 1e-6;

    private InterleavedChecks() {
    }

    /** The forward of {@code c} on {@code backend} equals the oracle; padding rows are exactly zero. */
    public static void forwardMatchesTheOracle(Backend backend, InterleavedCases.Case c) {
        MgqaWeights w = MgqaWeights.random(c.config(), c.seed());
        FloatTensor x = RandomInputs.normal(c.seed() + 1, c.batch(), c.tokens(), c.config().dim());
        try (InterleavedMmca model = InterleavedMmca.create(c.config(), w, backend)) {
            FloatTensor out = model.forward(x, c.modality());
            double err = Reference64.relativeError(out, Reference64.interleaved(c.config(), w, x, c.modality()));
            assertTrue(err <= TOLERANCE, c + ": relative error " + err);
            assertPaddingRowsZero(c + "", out, c.modality());
        }
    }

    /** Direct tensors in and out give the same numbers as heap ones. */
    public static void directTensorsGiveTheSameRows(Backend backend) {
        InterleavedCases.Case c = InterleavedCases.sweep(0).get(0);
        MgqaWeights w = MgqaWeights.random(c.config(), 1);
        FloatTensor x = RandomInputs.normal(2, c.batch(), c.tokens(), c.config().dim());
        try (InterleavedMmca model = InterleavedMmca.create(c.config(), w, backend)) {
            FloatTensor heap = model.forward(x, c.modality());
            FloatTensor direct = model.forward(RandomInputs.direct(x), c.modality());
            assertTrue(direct.isDirect());
            assertArrayEquals(heap.toArray(), direct.toArray(), "direct and heap tensors");
        }
    }

    /** {@code Backend.attention} with a modality equals the oracle's attention alone. */
    public static void attentionCallMatchesTheOracle(Backend backend, InterleavedCases.Case c) {
        MmcaConfig k = c.config();
        InterleavedProblem p = InterleavedProblem.builder(c.modality()).heads(k.heads()).kvHeads(k.kvHeads())
                .dimHead(k.dimHead()).qkNorm(k.qkNorm()).headMapping(k.headMapping()).imageAttention(k.imageAttention())
                .build();
        int b = p.batch();
        int n = p.tokens();
        FloatTensor q = RandomInputs.normal(c.seed() + 2, b, n, k.innerDim());
        FloatTensor kk = RandomInputs.normal(c.seed() + 3, b, n, k.kvInnerDim());
        FloatTensor v = RandomInputs.normal(c.seed() + 4, b, n, k.kvInnerDim());
        FloatTensor out = FloatTensor.zeros(b, n, k.innerDim());
        java.util.Arrays.fill(out.array(), Float.NaN);  // every element must be written
        backend.attention(p, q, kk, v, out);
        double err = Reference64.relativeError(out, Reference64.interleavedAttention(p, q, kk, v));
        assertTrue(err <= TOLERANCE, c + ": relative error " + err);
        assertPaddingRowsZero(c + "", out, c.modality());
    }

    /**
     * The sequences of {@code c} fed to a session in steps of 1, 3, 1, 7, 2, 5, ... tokens (under rule block a step
     * is lengthened until it ends where no image continues): every returned row equals the forward's, padding
     * rows are zero and not cached, and the cache holds the real tokens' modality in order.
     */
    public static void decodingEqualsTheForward(Backend backend, InterleavedCases.Case c) {
        MgqaWeights w = MgqaWeights.random(c.config(), c.seed());
        FloatTensor x = RandomInputs.normal(c.seed() + 1, c.batch(), c.tokens(), c.config().dim());
        int n = c.tokens();
        try (InterleavedMmca model = InterleavedMmca.create(c.config(), w, backend);
                InterleavedSession session = model.newSession(c.batch(), Math.max(1, n / 3), true)) {
            FloatTensor full = model.forward(x, c.modality());
            int at = 0;
            for (int end : InterleavedDecodingScenario.stepEnds(c.modality(), c.config().imageAttention())) {
                Modality step = c.modality().tokens(at, end - at);
                FloatTensor got = session.append(DecodingChecks.slice(x, at, end - at), step);
                double err = DecodingChecks.relativeError(got, DecodingChecks.slice(full, at, end - at));
                assertTrue(err <= DECODING_TOLERANCE, c + " tokens [" + at + ", " + end + "): relative error " + err);
                assertPaddingRowsZero(c + " step", got, step);
                at = end;
            }
            for (int b = 0; b < c.batch(); b++) {
                assertEquals(c.modality().row(b).replace(".", ""), session.cachedModality(b), "cached modality of "
                        + b);
            }
        }
    }

    /**
     * Rule block: an append continuing an image of the previous append is refused and changes nothing; after a
     * text token, or under rule self, it is accepted. Truncating and appending again gives the same rows.
     */
    public static void sessionRulesAndRollback(Backend backend) {
        MmcaConfig c = InterleavedCases.config(16, 4, 2, 8, HeadMapping.MODULO, false, ImageAttention.BLOCK);
        MgqaWeights w = MgqaWeights.random(c, 7);
        FloatTensor x = RandomInputs.normal(8, 2, 8, 16);
        Modality m = InterleavedCases.modality("t2 i4 t2", "t1 .1 i4 t2");
        try (InterleavedMmca model = InterleavedMmca.create(c, w, backend);
                InterleavedSession s = model.newSession(2, 8)) {
            FloatTensor full = model.forward(x, m);
            s.append(DecodingChecks.slice(x, 0, 4), m.tokens(0, 4));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.append(DecodingChecks.slice(x, 4, 4), m.tokens(4, 4)));
            assertTrue(e.getMessage().startsWith("modality: with image attention block every image arrives in one"
                    + " append, but batch element 0 continues the image"), e.getMessage());
            assertArrayEquals(new int[] {4, 3}, s.lengths(), "a refused append changes nothing");
            s.truncate(new int[] {2, 1});  // both back to before their image
            FloatTensor rest = s.append(DecodingChecks.slice(x, 2, 6), m.tokens(2, 6));
            double err = DecodingChecks.relativeError(rest, DecodingChecks.slice(full, 2, 6));
            assertTrue(err <= DECODING_TOLERANCE, "after rollback: relative error " + err);
            assertArrayEquals(new int[] {8, 7}, s.lengths());
            IllegalStateException full2 = assertThrows(IllegalStateException.class,
                    () -> s.append(DecodingChecks.slice(x, 0, 2), m.tokens(0, 2)));
            assertTrue(full2.getMessage().contains("past the capacity 8"), full2.getMessage());
        }
        MmcaConfig self = c.toBuilder().imageAttention(ImageAttention.SELF).build();
        try (InterleavedMmca model = InterleavedMmca.create(self, w, backend);
                InterleavedSession s = model.newSession(2, 8)) {
            FloatTensor full = model.forward(x, m);
            FloatTensor a = s.append(DecodingChecks.slice(x, 0, 4), m.tokens(0, 4));
            FloatTensor b = s.append(DecodingChecks.slice(x, 4, 4), m.tokens(4, 4));  // splits an image: fine
            assertTrue(DecodingChecks.relativeError(a, DecodingChecks.slice(full, 0, 4)) <= DECODING_TOLERANCE);
            assertTrue(DecodingChecks.relativeError(b, DecodingChecks.slice(full, 4, 4)) <= DECODING_TOLERANCE);
            FloatTensor bad = DecodingChecks.slice(x, 0, 1);
            bad.set(3, Float.NaN);
            s.truncate(4);
            IllegalArgumentException nan = assertThrows(IllegalArgumentException.class, () -> s.append(bad,
                    m.tokens(0, 1)));
            assertTrue(nan.getMessage().startsWith("tokens: expected finite values"), nan.getMessage());
            IllegalArgumentException shape = assertThrows(IllegalArgumentException.class, () -> s.append(
                    DecodingChecks.slice(x, 0, 2), m.tokens(0, 3)));
            assertTrue(shape.getMessage().startsWith("modality: expected shape [2, 2]"), shape.getMessage());
            assertArrayEquals(new int[] {4, 4}, s.lengths(), "failed appends change nothing");
        }
    }

    /** Shapes, values and the closed model give errors naming the argument. */
    public static void badInputsAreRefused(Backend backend) {
        MmcaConfig c = InterleavedCases.config(8, 2, 1, 4, HeadMapping.MODULO, false, ImageAttention.SELF);
        MgqaWeights w = MgqaWeights.random(c, 3);
        InterleavedMmca model = InterleavedMmca.create(c, w, backend);
        FloatTensor x = RandomInputs.normal(4, 2, 5, 8);
        Modality m = Modality.parse("ttiit", "iit..");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(RandomInputs.normal(4, 2, 5, 7), m));
        assertTrue(e.getMessage().startsWith("tokens: expected shape [batch, tokens, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.forward(x, Modality.parse("ttiit")));
        assertTrue(e.getMessage().startsWith("modality: expected shape [2, 5] (one modality per token), got [1, 5]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.forward(x, Modality.parse("ttii", "iit.")));
        assertTrue(e.getMessage().startsWith("modality: expected shape [2, 5]"), e.getMessage());
        FloatTensor nan = RandomInputs.normal(4, 2, 5, 8);
        nan.set(17, Float.NaN);
        e = assertThrows(IllegalArgumentException.class, () -> model.forward(nan, m));
        assertTrue(e.getMessage().startsWith("tokens: expected finite values, got NaN at index [0, 2, 1]"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Modality.of(new int[] {1, 2, 3, 0}, 2, 2));
        assertEquals("modality: expected 0 (padding), 1 (text) or 2 (image), got 3 at [1, 0]", e.getMessage());
        FloatTensor q = RandomInputs.normal(1, 2, 5, 8);
        FloatTensor kv = RandomInputs.normal(2, 2, 5, 4);
        InterleavedProblem p = InterleavedProblem.builder(m).heads(2).kvHeads(1).dimHead(4).build();
        e = assertThrows(IllegalArgumentException.class, () -> backend.attention(p, q, kv, RandomInputs.normal(3, 2,
                4, 4), FloatTensor.zeros(2, 5, 8)));
        assertEquals("v: expected shape [2, 5, 4], got [2, 4, 4]", e.getMessage());
        MmcaConfig cross = MmcaConfig.builder().dim(8).heads(2).kvHeads(1).dimHead(4).build();
        e = assertThrows(IllegalArgumentException.class, () -> InterleavedMmca.create(cross, w, backend));
        assertTrue(e.getMessage().startsWith("composition: expected INTERLEAVED"), e.getMessage());
        MgqaWeights wrong = MgqaWeights.random(c.toBuilder().dim(9).build(), 3);
        e = assertThrows(IllegalArgumentException.class, () -> InterleavedMmca.create(c, wrong, backend));
        assertEquals("to_q.weight: expected shape [8, 8], got [8, 9]", e.getMessage());
        model.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> model.forward(x, m));
        assertEquals("model: called after close()", closed.getMessage());
    }

    /** Tokens scaled far up: the scores overflow float32, which is an error naming the operation. */
    public static NumericOverflowException overflowIsAnError(Backend backend) {
        MmcaConfig c = InterleavedCases.config(16, 4, 2, 8, HeadMapping.MODULO, false, ImageAttention.SELF);
        MgqaWeights w = MgqaWeights.random(c, 5);
        FloatTensor x = OverflowChecks.scale(RandomInputs.normal(6, 2, 6, 16), 1e20f);
        try (InterleavedMmca model = InterleavedMmca.create(c, w, backend)) {
            NumericOverflowException e = assertThrows(NumericOverflowException.class,
                    () -> model.forward(x, Modality.parse("ttiiit", "iiittt")));
            assertTrue(e.getMessage().contains("overflowed float32"), e.getMessage());
            model.forward(OverflowChecks.scale(RandomInputs.normal(6, 2, 6, 16), 1e3f), Modality.parse("ttiiit",
                    "iiittt"));
            return e;
        }
    }

    /** One interleaved attention call ({@link Backend#attention} of a backend, or one Java kernel set). */
    @FunctionalInterface
    public interface InterleavedCall {
        void run(InterleavedProblem p, FloatTensor q, FloatTensor k, FloatTensor v, FloatTensor out);
    }

    /** Batch element 1 of the -inf checks: text 0-69, image 70-149 (a run across key tiles), text 150-159. */
    private static final Modality LONG = InterleavedCases.modality("t70 i80 t10", "t70 i80 t10");

    /**
     * Each group is its own softmax: a group whose every score is -inf (q = 1e20 against k = -1e20 in one element
     * of head 0, over several key tiles) is an overflow naming the row, even when the row's other group is finite.
     * Element 1: the text group of query 150 (its image group finite); then, with every image key -inf, the image
     * group of image query 100 under rule block, or, under rule self (where an image query's image group is its
     * own value, unscored), that of text query 150. {@code cuda} backends see it in their outputs.
     */
    public static void aGroupWhoseScoresOverflowDownwardsIsRefused(InterleavedCall call, boolean cuda) {
        for (ImageAttention rule : ImageAttention.values()) {
            InterleavedProblem p = problem(rule);
            FloatTensor[] qkv = minusInfInputs(p, 31);
            setHead0(qkv[0], 1, 150, 1e20f);
            for (int j = 0; j < 70; j++) {
                setHead0(qkv[1], 1, j, -1e20f);
            }
            setHead0(qkv[1], 1, 150, -1e20f);
            assertGroupOverflowAt(call, p, qkv, "batch element 1, query 150 ", cuda);

            qkv = minusInfInputs(p, 32);
            setHead0(qkv[0], 1, 100, 1e20f);
            setHead0(qkv[0], 1, 150, 1e20f);
            for (int j = 70; j < 150; j++) {
                setHead0(qkv[1], 1, j, -1e20f);
            }
            assertGroupOverflowAt(call, p, qkv, rule == ImageAttention.BLOCK ? "batch element 1, query 100 "
                    : "batch element 1, query 150 ", cuda);
        }
    }

    /**
     * -inf scores beside finite ones in the same group are harmless (weight 0), and an empty group is no overflow:
     * query 155 scores -inf against text key 0 only; under rule self, image query 100's scored text group is
     * finite while every image key scores -inf for it (its image group is its own value).
     */
    public static void minusInfiniteScoresBesideFiniteOnesStillCompute(InterleavedCall call) {
        for (ImageAttention rule : ImageAttention.values()) {
            InterleavedProblem p = problem(rule);
            FloatTensor[] qkv = minusInfInputs(p, 33);
            setHead0(qkv[0], 1, 155, 1e20f);
            setHead0(qkv[1], 1, 0, -1e20f);
            if (rule == ImageAttention.SELF) {
                setHead0(qkv[0], 1, 100, 1e20f);
                for (int j = 70; j < 150; j++) {
                    setHead0(qkv[1], 1, j, -1e20f);
                }
                // text query 155 sees those image keys too: keep its image group finite
                setHead0(qkv[0], 1, 155, 0f);
            }
            FloatTensor out = FloatTensor.zeros(p.batch(), p.tokens(), p.heads() * p.dimHead());
            call.run(p, qkv[0], qkv[1], qkv[2], out);
            assertTrue(out.firstNonFinite() < 0, rule + ": non-finite output at " + out.firstNonFinite());
        }
    }

    private static InterleavedProblem problem(ImageAttention rule) {
        return InterleavedProblem.builder(LONG).heads(4).kvHeads(2).dimHead(8).imageAttention(rule).build();
    }

    private static FloatTensor[] minusInfInputs(InterleavedProblem p, long seed) {
        int b = p.batch();
        int n = p.tokens();
        // element 0 of every head zero: a score is extreme only where a check sets both q and k
        return new FloatTensor[] {
            OverflowChecks.firstElementsZero(RandomInputs.normal(seed, b, n, p.heads() * p.dimHead()), p.dimHead()),
            OverflowChecks.firstElementsZero(RandomInputs.normal(seed + 1, b, n, p.kvHeads() * p.dimHead()),
                    p.dimHead()),
            RandomInputs.normal(seed + 2, b, n, p.kvHeads() * p.dimHead())};
    }

    /** Element 0 of head 0 (q) or kv head 0 (k) of token {@code i} of batch element {@code b}. */
    private static void setHead0(FloatTensor t, int b, int i, float value) {
        t.set((b * t.dim(1) + i) * t.dim(2), value);
    }

    private static void assertGroupOverflowAt(InterleavedCall call, InterleavedProblem p, FloatTensor[] qkv,
            String where, boolean cuda) {
        FloatTensor out = FloatTensor.zeros(p.batch(), p.tokens(), p.heads() * p.dimHead());
        OverflowChecks.assertScoresOverflowAt(() -> call.run(p, qkv[0], qkv[1], qkv[2], out), p.toString(), where,
                cuda);
    }

    /** Every element of every padding row is zero ({@code ==}: -0 is zero too). */
    public static void assertPaddingRowsZero(String what, FloatTensor out, Modality m) {
        int n = out.dim(1);
        int width = out.dim(2);
        for (int b = 0; b < out.dim(0); b++) {
            for (int i = 0; i < n; i++) {
                if (m.get(b, i) != Modality.PADDING) {
                    continue;
                }
                for (int e = 0; e < width; e++) {
                    assertTrue(out.get((b * n + i) * width + e) == 0f, what + ": padding token [" + b + ", " + i
                            + "] has a non-zero output");
                }
            }
        }
    }

    /** A subset of the sweep for slower backends and for decoding: every hand-picked case, a few random ones. */
    public static List<InterleavedCases.Case> decodingCases() {
        List<InterleavedCases.Case> all = new ArrayList<>();
        for (InterleavedCases.Case c : InterleavedCases.sweep(4)) {
            if (!c.name().startsWith("random-") || all.size() % 3 == 0) {
                all.add(c);
            }
        }
        return all;
    }
}
