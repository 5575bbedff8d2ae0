package dev.mmca.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.NumericOverflowException;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.Machine;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import org.junit.jupiter.api.function.Executable;

/**
 * Finite inputs whose computation exceeds float32 give a clear error, never NaN, infinities or wrong values,
 * on every backend: tokens scaled far up, one enormous weight, and attention scores that overflow downwards
 * (q.k below -3.4e38). Shared by the backends' test suites.
 */
public final class OverflowChecks {
    private static final MmcaConfig CONFIG = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(8).build();
    private static final float HUGE = 1e20f;

    /** One fused attention call ({@link Backend#attention} of a backend, or one Java kernel set). */
    @FunctionalInterface
    public interface AttentionCall {
        void run(AttentionProblem p, FloatTensor q, FloatTensor k, FloatTensor v, FloatTensor out);
    }

    private OverflowChecks() {
    }

    /** Visual tokens scaled by 1e20: the scores overflow (a visual block operation is named); returns the error. */
    public static NumericOverflowException scaledTokensAreRefused(Backend backend) {
        MmcaWeights w = MmcaWeights.random(CONFIG, 5);
        FloatTensor v = scale(RandomInputs.normal(6, 2, 5, 16), 1e20f);
        FloatTensor t = RandomInputs.normal(7, 2, 4, 16);
        try (SimpleMmca model = SimpleMmca.create(CONFIG, w, backend)) {
            NumericOverflowException e = assertThrows(NumericOverflowException.class, () -> model.forward(v, t));
            assertTrue(e.getMessage().contains("overflowed float32"), e.getMessage());
            assertTrue(e.getMessage().contains("visual") || e.getMessage().startsWith("cuda:"), e.getMessage());
            // modest scales still compute
            model.forward(scale(RandomInputs.normal(6, 2, 5, 16), 1e3f), t);
            return e;
        }
    }

    /** One weight of 3e38 in the visual block's to_q: its projection overflows. */
    public static void hugeWeightIsRefused(Backend backend) {
        MmcaWeights w = MmcaWeights.random(CONFIG, 8);
        float[] q = w.visualSelf().toQ().toArray();
        q[3] = 3e38f;
        MgqaWeights vis = new MgqaWeights(FloatTensor.of(q, 32, 16), w.visualSelf().toK(), w.visualSelf().toV(),
                w.visualSelf().toOut());
        MmcaWeights huge = new MmcaWeights(vis, w.textualSelf(), w.cross());
        FloatTensor v = scale(RandomInputs.normal(9, 1, 3, 16), 100f);
        try (SimpleMmca model = SimpleMmca.create(CONFIG, huge, backend)) {
            NumericOverflowException e = assertThrows(NumericOverflowException.class,
                    () -> model.forward(v, RandomInputs.normal(10, 1, 3, 16)));
            assertTrue(e.getMessage().contains("overflowed float32"), e.getMessage());
        }
    }

    /**
     * A row whose every visible score is -inf (q = 1e20 against k = -1e20 in element 0 of head 0: q.k about
     * -1e40) is an overflow naming the row, like a +inf score: the first row of causal attention, which sees only
     * key 0; a row whose few visible keys (the key mask) all score -inf; and both again with the keys split into
     * chunks (one query over 700 keys). {@code cuda} backends see it in their outputs, so their message is theirs.
     */
    public static void scoresOverflowingDownwardsAreRefused(AttentionCall call, boolean cuda) {
        // causal: query 0 of batch element 1 sees key 0 alone; the later queries also see keys 1.. (finite)
        AttentionProblem causal = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(6).keys(6)
                .dimHead(8).causal(true).build();
        FloatTensor[] qkv = inputs(causal, 11);
        set(qkv[0], 1, 0, 0, HUGE);
        set(qkv[1], 1, 0, 0, -HUGE);
        assertOverflowAt(call, causal, qkv, "batch element 1, query 0 ", cuda);

        // key mask: element 0 sees keys 2 and 5 only, and query 3 of head 0 scores -inf against both
        Mask keys = Mask.of(new boolean[] {false, false, true, false, false, true, true, true, true, true, true, true},
                2, 6);
        AttentionProblem masked = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(5).keys(6)
                .dimHead(8).keyMask(keys).build();
        qkv = inputs(masked, 12);
        set(qkv[0], 0, 3, 0, HUGE);
        set(qkv[1], 0, 2, 0, -HUGE);
        set(qkv[1], 0, 5, 0, -HUGE);
        assertOverflowAt(call, masked, qkv, "batch element 0, query 3 ", cuda);

        // one query of 4 heads over 700 keys: one work item, its keys split into chunks; every score -inf
        AttentionProblem split = oneQuery(1, 4, 2, 700, 16);
        qkv = minusInfUpTo(split, 13, 700);
        assertOverflowAt(call, split, qkv, "batch element 0, query 0 ", cuda);

        // the same split call with only keys 300-309 visible (the key mask), each scoring -inf: the chunks that see
        // no key and the one that sees only -inf merge into an overflow
        boolean[] few = new boolean[split.keys()];
        java.util.Arrays.fill(few, 300, 310, true);
        AttentionProblem fewKeys = AttentionProblem.builder().batch(1).heads(4).kvHeads(2).queries(1).keys(700)
                .dimHead(16).keyMask(Mask.of(few, 1, 700)).build();
        assertOverflowAt(call, fewKeys, qkv, "batch element 0, query 0 ", cuda);
    }

    /**
     * Scores of -inf are harmless where the row has a finite one (their weight is 0), and a row that sees no key is
     * no overflow whatever its scores: a single -inf score among finite ones, a split call whose first chunks score
     * -inf and whose last ones are finite, a whole key tile of -inf scores before finite ones, and rows hidden by the query mask or a key mask that hides every key,
     * which are zero.
     */
    public static void harmlessInfiniteScoresStillCompute(AttentionCall call) {
        // causal: query 4 of element 0 scores -inf against key 0 only (keys 1-4 are finite for it)
        AttentionProblem causal = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(6).keys(6)
                .dimHead(8).causal(true).build();
        FloatTensor[] qkv = inputs(causal, 21);
        set(qkv[0], 0, 4, 0, HUGE);
        set(qkv[1], 0, 0, 0, -HUGE);
        assertFinite(call, causal, qkv, "a single -inf score");

        // one query over 700 keys, split into chunks: keys 0-449 score -inf, keys 450-699 are finite
        AttentionProblem split = oneQuery(1, 4, 2, 700, 16);
        assertFinite(call, split, minusInfUpTo(split, 22, 450), "the first chunks -inf");

        // 16 work items (no split), 300 keys: query 0 of element 0 scores -inf against a whole first key tile of 256
        AttentionProblem tiles = oneQuery(16, 2, 1, 300, 8);
        assertFinite(call, tiles, minusInfUpTo(tiles, 24, 256), "a whole key tile -inf");

        // element 0: query 3 (whose scores are all -inf) masked; element 1: every key masked, scores all -inf
        Mask queries = Mask.of(new boolean[] {true, true, true, false, true, true, true, true, true, true}, 2, 5);
        Mask keys = Mask.of(new boolean[] {true, true, true, true, true, true, false, false, false, false, false,
            false}, 2, 6);
        AttentionProblem masked = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(5).keys(6)
                .dimHead(8).queryMask(queries).keyMask(keys).build();
        qkv = inputs(masked, 23);
        set(qkv[0], 0, 3, 0, HUGE);
        for (int b = 0; b < 2; b++) {
            for (int j = 0; j < 6; j++) {
                set(qkv[1], b, j, 0, -HUGE);
            }
        }
        set(qkv[0], 1, 2, 0, HUGE);
        FloatTensor out = assertFinite(call, masked, qkv, "rows that see no key");
        int width = masked.heads() * masked.dimHead();
        for (int e = 0; e < width; e++) {
            assertEquals(0f, out.get(3 * width + e), "the masked query's row is zero");
            for (int i = 0; i < masked.queries(); i++) {
                assertEquals(0f, out.get((masked.queries() + i) * width + e), "a row without keys is zero");
            }
        }
    }

    /**
     * The same over a partly filled cache, as a decoding step issues it (k and v side by side in one strided cache,
     * per-element key lengths, causal positions): one query per element over a cache of 300 rows (split into key
     * chunks). Element 1 holds 120 keys, all scoring -inf for its query: an overflow. Then element 1 holds none
     * (its query sees no key whatever the scores: zeros) and element 0's query scores -inf against one of its keys
     * only: no error. {@code machine} runs the plan (a backend's machine without weights).
     */
    public static void cacheRowsOverflowingDownwardsAreRefused(Machine machine) {
        int capacity = 300;
        int d = 8;
        int gd = 2 * d;
        Plan.Builder pb = Plan.builder();
        Buffer q = pb.input("q", 2, 4 * d);
        Buffer cache = pb.input("cache", 2L * capacity, 2 * gd);
        Buffer lengths = pb.intInput("keyLengths", 2, 1);
        Buffer positions = pb.intInput("queryPositions", 2, 1);
        Buffer out = pb.output("out", 2, 4 * d);
        AttentionOp op = AttentionOp.builder("attention").sizes(2, 4, 2, 1, capacity, d)
                .flags((float) (1 / Math.sqrt(d)), true, false, dev.mmca.HeadMapping.MODULO).q(q, 0).k(cache, 0)
                .v(cache, gd).o(out, 0).keyLengths(lengths).queryPositions(positions).build();
        Plan plan = pb.op(op).build();
        FloatTensor qs = firstElementsZero(RandomInputs.normal(31, 2, 1, 4 * d), d);
        FloatTensor kv = firstElementsZero(RandomInputs.normal(32, 2, capacity, 2 * gd), d);
        qs.set(4 * d, HUGE);  // element 1, head 0
        for (int j = 0; j < 120; j++) {
            kv.set((capacity + j) * 2 * gd, -HUGE);  // element 1, key j of kv head 0
        }
        kv.set(7 * 2 * gd, -HUGE);  // element 0, key 7
        qs.set(0, HUGE);
        FloatTensor o = FloatTensor.zeros(2, 1, 4 * d);
        PlanIo io = new PlanIo().tensor(q, qs).tensor(cache, kv).ints(lengths, new int[] {250, 120})
                .ints(positions, new int[] {249, 119}).tensor(out, o);
        assertScoresOverflowAt(() -> machine.run(plan, io), "a cache", "batch element 1, query 0 ", false);
        PlanIo none = new PlanIo().tensor(q, qs).tensor(cache, kv).ints(lengths, new int[] {250, 0})
                .ints(positions, new int[] {249, 0}).tensor(out, o);
        machine.run(plan, none);
        assertTrue(o.firstNonFinite() < 0, "non-finite output at " + o.firstNonFinite());
        for (int e2 = 4 * d; e2 < 8 * d; e2++) {
            assertEquals(0f, o.get(e2), "element 1 holds no key: zero");
        }
    }

    private static void assertOverflowAt(AttentionCall call, AttentionProblem p, FloatTensor[] qkv, String where,
            boolean cuda) {
        FloatTensor out = FloatTensor.zeros(p.batch(), p.queries(), p.heads() * p.dimHead());
        assertScoresOverflowAt(() -> call.run(p, qkv[0], qkv[1], qkv[2], out), p.toString(), where, cuda);
    }

    /**
     * {@code run} raises the overflow of an operation named {@code attention} at {@code where} ("batch element b,
     * query i "), or, on {@code cuda}, cuda's overflow seen in the outputs; {@code what} names the call.
     */
    static void assertScoresOverflowAt(Executable run, String what, String where, boolean cuda) {
        NumericOverflowException e = assertThrows(NumericOverflowException.class, run, what);
        String expected = cuda ? "cuda: the result overflowed float32 at "
                : "attention: the attention scores overflowed float32 at " + where;
        assertTrue(e.getMessage().startsWith(expected), what + ": " + e.getMessage());
    }

    /** {@code batch} elements of one query over {@code keys} keys (several work items, or one split into chunks). */
    private static AttentionProblem oneQuery(int batch, int heads, int kvHeads, int keys, int dimHead) {
        return AttentionProblem.builder().batch(batch).heads(heads).kvHeads(kvHeads).queries(1).keys(keys)
                .dimHead(dimHead).build();
    }

    /** Inputs of {@code p} where query 0 of element 0 (head 0) scores -inf against keys [0, upTo) and no other. */
    private static FloatTensor[] minusInfUpTo(AttentionProblem p, long seed, int upTo) {
        FloatTensor[] qkv = inputs(p, seed);
        set(qkv[0], 0, 0, 0, HUGE);
        for (int j = 0; j < upTo; j++) {
            set(qkv[1], 0, j, 0, -HUGE);
        }
        return qkv;
    }

    private static FloatTensor assertFinite(AttentionCall call, AttentionProblem p, FloatTensor[] qkv, String what) {
        FloatTensor out = FloatTensor.zeros(p.batch(), p.queries(), p.heads() * p.dimHead());
        call.run(p, qkv[0], qkv[1], qkv[2], out);
        assertTrue(out.firstNonFinite() < 0, what + ": non-finite output at " + out.firstNonFinite());
        return out;
    }

    /** {@code t[b, row, column] = value} for a {@code [batch, rows, width]} tensor. */
    private static void set(FloatTensor t, int b, int row, int column, float value) {
        t.set((b * t.dim(1) + row) * t.dim(2) + column, value);
    }

    /**
     * Random q, k and v, element 0 of every head of q and k zero: a score is extreme only where a check sets both
     * (elsewhere 0 times a huge value adds nothing), so every other row computes as usual on every backend.
     */
    private static FloatTensor[] inputs(AttentionProblem p, long seed) {
        return new FloatTensor[] {
            firstElementsZero(RandomInputs.normal(seed, p.batch(), p.queries(), p.heads() * p.dimHead()), p.dimHead()),
            firstElementsZero(RandomInputs.normal(seed + 1, p.batch(), p.keys(), p.kvHeads() * p.dimHead()),
                    p.dimHead()),
            RandomInputs.normal(seed + 2, p.batch(), p.keys(), p.kvHeads() * p.dimHead())};
    }

    /** {@code t} with element 0 of every head (every {@code dimHead}-th element) set to 0. */
    static FloatTensor firstElementsZero(FloatTensor t, int dimHead) {
        for (int i = 0; i < t.size(); i += dimHead) {
            t.set(i, 0f);
        }
        return t;
    }

    static FloatTensor scale(FloatTensor t, float f) {
        float[] a = t.toArray();
        for (int i = 0; i < a.length; i++) {
            a[i] *= f;
        }
        return FloatTensor.of(a, t.shape());
    }
}
