package dev.mmca.plan;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.testing.RandomInputs;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A random attention call over a partly filled key/value cache, as incremental decoding issues it: q, k, v
 * in their own buffers, the cache of {@code capacity} rows per batch element with per-element key lengths
 * (one element's beyond the capacity, to check clamping), causal positions (one before the first key), a
 * query mask, sometimes a key mask; sometimes one query over a long cache (which kernels split into key
 * chunks). Seeded. For checking a backend's attention operation against {@link PlanInterpreter}.
 */
public final class CacheAttentionCase {
    public final String name;
    public final Plan plan;
    public final Buffer out;
    public final PlanIo io = new PlanIo();
    private final Buffer q;
    private final Buffer kv;
    private final Buffer queryMask;
    private final Buffer keyMask;
    private final Buffer lengths;
    private final Buffer positions;
    private final FloatTensor qValues;
    private final FloatTensor kvValues;
    private final Mask queryMaskValues;
    private final Mask keyMaskValues;
    private final int[] lengthValues;
    private final int[] positionValues;

    public CacheAttentionCase(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] headChoices = {1, 2, 4, 8, 16};
        int heads = headChoices[r.nextInt(headChoices.length)];
        int kvHeads = heads / (1 << r.nextInt(Integer.numberOfTrailingZeros(heads) + 1));
        int d = new int[] {4, 8, 16, 64}[r.nextInt(4)];
        int batch = 1 + r.nextInt(3);
        boolean step = r.nextBoolean();
        int queries = step ? 1 + r.nextInt(2) : 1 + r.nextInt(40);
        int capacity = step ? 300 + r.nextInt(800) : queries + r.nextInt(60);
        boolean grouped = r.nextBoolean();
        boolean qkNorm = r.nextInt(4) == 0;
        boolean withKeyMask = r.nextInt(3) == 0;
        int hd = heads * d;
        int gd = kvHeads * d;
        Plan.Builder p = Plan.builder();
        q = p.input("q", (long) batch * queries, hd);
        kv = p.input("cache", (long) batch * capacity, 2 * gd);
        queryMask = p.maskInput("queryMask", batch, queries);
        keyMask = withKeyMask ? p.maskInput("keyMask", batch, capacity) : null;
        lengths = p.intInput("keyLengths", batch, 1);
        positions = p.intInput("queryPositions", batch, queries);
        out = p.output("out", (long) batch * queries, hd);
        AttentionOp op = AttentionOp.builder("cache attention").sizes(batch, heads, kvHeads, queries, capacity, d)
                .flags((float) (1 / Math.sqrt(d)), true, qkNorm, grouped ? HeadMapping.GROUPED : HeadMapping.MODULO)
                .q(q, 0).k(kv, 0).v(kv, gd).o(out, 0).queryMask(queryMask).keyMask(keyMask)
                .keyLengths(lengths).queryPositions(positions).build();
        plan = p.op(op).build();
        lengthValues = new int[batch];
        positionValues = new int[batch * queries];
        for (int b = 0; b < batch; b++) {
            lengthValues[b] = b == 1 ? capacity + 3 : Math.max(0, capacity - r.nextInt(capacity / 2 + 1));
            for (int i = 0; i < queries; i++) {
                positionValues[b * queries + i] = b == 2 && i == 0 ? -1 : lengthValues[b] - queries + i;
            }
        }
        qValues = RandomInputs.normal(seed + 1, batch, queries, hd);
        kvValues = RandomInputs.normal(seed + 2, batch, capacity, 2 * gd);
        queryMaskValues = RandomInputs.randomLengths(seed + 3, batch, queries, 0);
        keyMaskValues = withKeyMask ? RandomInputs.scattered(seed + 4, batch, capacity, 0.8) : null;
        io.tensor(q, qValues).tensor(kv, kvValues).mask(queryMask, queryMaskValues).mask(keyMask, keyMaskValues)
                .ints(lengths, lengthValues).ints(positions, positionValues)
                .tensor(out, FloatTensor.zeros(batch, queries, hd));
        name = "seed " + seed + ": B=" + batch + " H=" + heads + " G=" + kvHeads + " N=" + queries + " cap=" + capacity
                + " D=" + d + (withKeyMask ? " keyMask" : "") + (qkNorm ? " qkNorm" : "");
    }

    /** The output the plan must produce, in float64. */
    public PlanInterpreter reference() {
        PlanInterpreter ref = new PlanInterpreter(List.of());
        ref.input(q, qValues);
        ref.input(kv, kvValues);
        ref.mask(queryMask, queryMaskValues);
        ref.mask(keyMask, keyMaskValues);
        ref.ints(lengths, lengthValues);
        ref.ints(positions, positionValues);
        plan.run(ref);
        return ref;
    }

    /** {@code ||got - ref|| / ||ref||} over the output (ref all zero: {@code ||got||}). */
    public double error(FloatTensor got) {
        double[] ref = reference().of(out);
        double num = 0;
        double den = 0;
        for (int i = 0; i < ref.length; i++) {
            double e = got.get(i) - ref[i];
            num += e * e;
            den += ref[i] * ref[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    @Override
    public String toString() {
        return name;
    }
}
