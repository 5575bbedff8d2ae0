package dev.mmca.backend;

import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import java.util.Objects;

/**
 * One fused masked grouped-query attention call (SPEC steps 2 to 5, without the projections):
 * {@code out[b, i, h*D:(h+1)*D] = sum_j softmax_j(scale * q_i . k_j) v_j} over the keys that
 * query i of head h may see, reading kv head {@code g(h)}.
 *
 * <p>Tensors (row-major): {@code q [B, N, H*D]}, {@code k [B, M, G*D]}, {@code v [B, M, G*D]},
 * {@code out [B, N, H*D]}. Query i may see key j iff {@code keyMask[b, j]} (when given) and, when
 * causal, {@code j <= i + (M - N)}. A query with no visible key, or whose {@code queryMask} entry is
 * false, gets an all-zero output row. With {@code qkNorm}, q and k head vectors are L2-normalised
 * before the dot product.
 */
public final class AttentionProblem {
    private final int batch;
    private final int heads;
    private final int kvHeads;
    private final int queries;
    private final int keys;
    private final int dimHead;
    private final float scale;
    private final boolean causal;
    private final boolean qkNorm;
    private final HeadMapping headMapping;
    private final Mask keyMask;
    private final Mask queryMask;

    private AttentionProblem(Builder b) {
        this.batch = b.batch;
        this.heads = b.heads;
        this.kvHeads = b.kvHeads;
        this.queries = b.queries;
        this.keys = b.keys;
        this.dimHead = b.dimHead;
        this.qkNorm = b.qkNorm;
        this.scale = b.scale != null ? b.scale : (b.qkNorm ? 10f : (float) (1.0 / Math.sqrt(b.dimHead)));
        this.causal = b.causal;
        this.headMapping = b.headMapping;
        this.keyMask = b.keyMask;
        this.queryMask = b.queryMask;
    }

    public static Builder builder() {
        return new Builder();
    }

    public int batch() { return batch; }
    public int heads() { return heads; }
    public int kvHeads() { return kvHeads; }
    /** N, queries per batch element. */
    public int queries() { return queries; }
    /** M, keys per batch element. */
    public int keys() { return keys; }
    public int dimHead() { return dimHead; }
    public float scale() { return scale; }
    public boolean causal() { return causal; }
    public boolean qkNorm() { return qkNorm; }
    public HeadMapping headMapping() { return headMapping; }
    /** {@code [B, M]} or null (all keys real). */
    public Mask keyMask() { return keyMask; }
    /** {@code [B, N]} or null (all queries real). */
    public Mask queryMask() { return queryMask; }

    /** Right-aligned causal offset {@code M - N}: query i sees keys {@code j <= i + offset}. */
    public int causalOffset() { return keys - queries; }

    /** The number of (query, key) pairs that are visible, over all batch elements and heads. */
    public long visiblePairs() {
        long total = 0;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < queries; i++) {
                if (queryMask != null && !queryMask.get(b, i)) {
                    continue;
                }
                int last = causal ? Math.min(keys - 1, i + causalOffset()) : keys - 1;
                if (keyMask == null) {
                    total += Math.max(0, last + 1);
                } else {
                    for (int j = 0; j <= last; j++) {
                        if (keyMask.get(b, j)) {
                            total++;
                        }
                    }
                }
            }
        }
        return total * heads;
    }

    /** Floating-point operations counted as {@code 4 * D} per visible (query, key, head) triple. */
    public double flops() {
        return 4.0 * dimHead * visiblePairs();
    }

    @Override
    public String toString() {
        return "AttentionProblem{B=" + batch + ", H=" + heads + ", G=" + kvHeads + ", N=" + queries + ", M=" + keys
                + ", D=" + dimHead + ", causal=" + causal + ", qkNorm=" + qkNorm + ", mapping=" + headMapping + "}";
    }

    /** Collects and validates the problem's sizes and options. */
    public static final class Builder {
        private int batch = -1;
        private int heads = -1;
        private int kvHeads = -1;
        private int queries = -1;
        private int keys = -1;
        private int dimHead = -1;
        private Float scale;
        private boolean causal;
        private boolean qkNorm;
        private HeadMapping headMapping = HeadMapping.MODULO;
        private Mask keyMask;
        private Mask queryMask;

        private Builder() {
        }

        public Builder batch(int v) { batch = v; return this; }
        public Builder heads(int v) { heads = v; return this; }
        public Builder kvHeads(int v) { kvHeads = v; return this; }
        public Builder queries(int v) { queries = v; return this; }
        public Builder keys(int v) { keys = v; return this; }
        public Builder dimHead(int v) { dimHead = v; return this; }
        /** Overrides the default scale ({@code D^-0.5}, or 10 with qkNorm). */
        public Builder scale(float v) { scale = v; return this; }
        public Builder causal(boolean v) { causal = v; return this; }
        public Builder qkNorm(boolean v) { qkNorm = v; return this; }
        public Builder headMapping(HeadMapping v) { headMapping = Objects.requireNonNull(v, "headMapping"); return this; }
        public Builder keyMask(Mask v) { keyMask = v; return this; }
        public Builder queryMask(Mask v) { queryMask = v; return this; }

        public AttentionProblem build() {
            positive("batch", batch);
            positive("heads", heads);
            positive("kvHeads", kvHeads);
            positive("queries", queries);
            positive("keys", keys);
            positive("dimHead", dimHead);
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("kvHeads: expected a divisor of heads (" + heads + "), got " + kvHeads);
            }
            if (scale != null && !(Float.isFinite(scale) && scale > 0)) {
                throw new IllegalArgumentException("scale: expected a finite positive number, got " + scale);
            }
            if (keyMask != null && (keyMask.batch() != batch || keyMask.length() != keys)) {
                throw new IllegalArgumentException("keyMask: expected shape [" + batch + ", " + keys + "], got ["
                        + keyMask.batch() + ", " + keyMask.length() + "]");
            }
            if (queryMask != null && (queryMask.batch() != batch || queryMask.length() != queries)) {
                throw new IllegalArgumentException("queryMask: expected shape [" + batch + ", " + queries + "], got ["
                        + queryMask.batch() + ", " + queryMask.length() + "]");
            }
            return new AttentionProblem(this);
        }

        private static void positive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + ": expected a positive integer, got " + v);
            }
        }
    }
}
