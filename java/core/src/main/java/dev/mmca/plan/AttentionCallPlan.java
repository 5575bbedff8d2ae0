package dev.mmca.plan;

import dev.mmca.backend.AttentionProblem;

/** One fused attention call ({@link dev.mmca.backend.Backend#attention}) as a plan of a single operation. */
public final class AttentionCallPlan {
    public final Plan plan;
    public final Buffer q;
    public final Buffer k;
    public final Buffer v;
    public final Buffer out;
    /** Null when the problem has no key mask. */
    public final Buffer keyMask;
    /** Null when the problem has no query mask. */
    public final Buffer queryMask;

    private AttentionCallPlan(AttentionProblem p) {
        int b = p.batch();
        int hd = p.heads() * p.dimHead();
        int gd = p.kvHeads() * p.dimHead();
        Plan.Builder builder = Plan.builder();
        q = builder.input("q", (long) b * p.queries(), hd);
        k = builder.input("k", (long) b * p.keys(), gd);
        v = builder.input("v", (long) b * p.keys(), gd);
        keyMask = p.keyMask() == null ? null : builder.maskInput("keyMask", b, p.keys());
        queryMask = p.queryMask() == null ? null : builder.maskInput("queryMask", b, p.queries());
        out = builder.output("out", (long) b * p.queries(), hd);
        builder.op(AttentionOp.builder("attention")
                .sizes(b, p.heads(), p.kvHeads(), p.queries(), p.keys(), p.dimHead())
                .flags(p.scale(), p.causal(), p.qkNorm(), p.headMapping())
                .q(q, 0).k(k, 0).v(v, 0).o(out, 0).keyMask(keyMask).queryMask(queryMask).build());
        plan = builder.build();
    }

    public static AttentionCallPlan of(AttentionProblem problem) {
        return new AttentionCallPlan(problem);
    }
}
