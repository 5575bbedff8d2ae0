package dev.mmca.plan;

import dev.mmca.Composition;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.backend.InterleavedProblem;
import java.util.List;
import java.util.Objects;

/**
 * Interleaved MMCA (SPEC "Interleaved MMCA") as plans: the composition written once for every backend. One
 * grouped-query block over one sequence of text and image tokens:
 * <pre>
 *   qkv = x [Wq; Wk; Wv]^T                       one GEMM
 *   o   = interleaved attention(qkv, modality)   two softmaxes per row, one pass ({@link InterleavedAttentionOp})
 *   out = o Wo^T                                 padding rows are zero: their o is zero
 * </pre>
 * Decoding steps append the new tokens' keys and values to a cache and attend from the new rows only, with the
 * modality of every cached key ({@link #decodeStep}).
 */
public final class InterleavedPlan {
    /** Indices of {@link #packWeights}'s matrices. */
    public static final int QKV = 0;
    public static final int OUT = 1;

    private final MmcaConfig config;
    private final int hd;
    private final int gd;

    private InterleavedPlan(MmcaConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        if (config.composition() != Composition.INTERLEAVED) {
            throw new IllegalArgumentException("composition: expected INTERLEAVED for an interleaved model, got "
                    + config.composition() + " (run it with SimpleMmca)");
        }
        this.hd = config.innerDim();
        this.gd = config.kvInnerDim();
    }

    public static InterleavedPlan of(MmcaConfig config) {
        return new InterleavedPlan(config);
    }

    public MmcaConfig config() {
        return config;
    }

    /** The two packed matrices: {@code to_q|to_k|to_v} stacked ({@link #QKV}) and {@code to_out} ({@link #OUT}). */
    public List<PackedWeight> packWeights(MgqaWeights w) {
        return List.of(PackedWeight.stack("to_q|to_k|to_v", w.toQ(), w.toK(), w.toV()),
                PackedWeight.stack("to_out", w.toOut()));
    }

    /** The tensors of a forward plan that the caller binds. */
    public static final class Forward {
        public final Plan plan;
        /** {@code [B * N, dim]}. */
        public final Buffer tokens;
        /** {@code [B, N]} bytes. */
        public final Buffer modality;
        public final Buffer out;

        Forward(Plan plan, Buffer tokens, Buffer modality, Buffer out) {
            this.plan = plan;
            this.tokens = tokens;
            this.modality = modality;
            this.out = out;
        }
    }

    /** The forward over {@code batch} sequences of {@code n} tokens; shapes are the caller's to check. */
    public Forward forward(int batch, int n) {
        long rows = (long) batch * n;
        Plan.Builder p = Plan.builder();
        Buffer x = p.input("tokens", rows, config.dim()).tokensPerElement(n);
        Buffer modality = p.modalityInput("modality", batch, n);
        Buffer out = p.output("out", rows, config.dim()).tokensPerElement(n);
        Buffer qkv = p.scratch("qkv", rows, hd + 2 * gd).tokensPerElement(n);
        Buffer o = p.scratch("heads", rows, hd).tokensPerElement(n);
        p.op(new LinearOp("to_q|to_k|to_v", x, QKV, qkv));
        p.op(new InterleavedAttentionOp(attention(batch, n, n).q(qkv, 0).k(qkv, hd).v(qkv, hd + gd).o(o, 0).build(),
                modality, config.imageAttention()));
        p.op(new LinearOp("to_out", o, OUT, out));
        return new Forward(p.build(), x, modality, out);
    }

    /** The tensors of one decoding step. */
    public static final class Step {
        public final Plan plan;
        /** {@code [B * n, dim]}: the new tokens. */
        public final Buffer tokens;
        /** {@code [B, capacity]} bytes: the modality of every cached key, this step's tokens included. */
        public final Buffer keyModality;
        /** {@code [B * n]} int32: the cache row of each new token, or -1 for padding (not cached). */
        public final Buffer cacheRows;
        /** {@code [B]} int32: tokens cached per element after this step. */
        public final Buffer keyLengths;
        /** {@code [B, n]} int32: each new token's position in its element's cache, -1 for padding. */
        public final Buffer queryPositions;
        /** State: the cache {@code [B * capacity, 2 G D]} ({@code k | v} of every real token, in order). */
        public final Buffer cache;
        public final Buffer out;

        Step(Plan plan, Buffer tokens, Buffer keyModality, Buffer cacheRows, Buffer keyLengths, Buffer queryPositions,
                Buffer cache, Buffer out) {
            this.plan = plan;
            this.tokens = tokens;
            this.keyModality = keyModality;
            this.cacheRows = cacheRows;
            this.keyLengths = keyLengths;
            this.queryPositions = queryPositions;
            this.cache = cache;
            this.out = out;
        }
    }

    /**
     * One decoding step of {@code n} new tokens per element over a cache of {@code capacity} rows per element:
     * project them as the forward does, append their keys and values to the cache (padding skipped), then the
     * interleaved attention of the new rows over the cache, and the output projection. The new rows equal the
     * forward's rows for those tokens when every image ends within the step that starts it (under
     * {@code block} an image token sees the later tokens of its image; the session enforces it).
     */
    public Step decodeStep(int batch, int n, int capacity) {
        long rows = (long) batch * n;
        Plan.Builder p = Plan.builder();
        Buffer x = p.input("tokens", rows, config.dim()).tokensPerElement(n);
        Buffer keyModality = p.modalityInput("cache modality", batch, capacity);
        Buffer cacheRows = p.intInput("cacheRows", batch, n);
        Buffer lengths = p.intInput("keyLengths", batch, 1);
        Buffer positions = p.intInput("queryPositions", batch, n);
        Buffer cache = p.state("cache", (long) batch * capacity, 2 * gd);
        Buffer out = p.output("out", rows, config.dim()).tokensPerElement(n);
        Buffer qkv = p.scratch("qkv", rows, hd + 2 * gd).tokensPerElement(n);
        Buffer o = p.scratch("heads", rows, hd).tokensPerElement(n);
        p.op(new LinearOp("to_q|to_k|to_v", x, QKV, qkv));
        p.op(new ScatterRowsOp("cache append", qkv, hd, 2 * gd, cache, 0, cacheRows));
        p.op(new InterleavedAttentionOp(attention(batch, n, capacity).q(qkv, 0).k(cache, 0).v(cache, gd).o(o, 0)
                .keyLengths(lengths).queryPositions(positions).build(), keyModality, config.imageAttention()));
        p.op(new LinearOp("to_out", o, OUT, out));
        return new Step(p.build(), x, keyModality, cacheRows, lengths, positions, cache, out);
    }

    /** Width {@code 2 G D} of a cache row ({@code k | v}). */
    public int cacheWidth() {
        return 2 * gd;
    }

    /** The tensors of moving a cache into a larger one. */
    public static final class Grow {
        public final Plan plan;
        public final Buffer from;
        public final Buffer to;
        /** {@code [B * oldCapacity]} int32: row b * oldCapacity + r goes to b * newCapacity + r (or -1: unused). */
        public final Buffer rows;

        Grow(Plan plan, Buffer from, Buffer to, Buffer rows) {
            this.plan = plan;
            this.from = from;
            this.to = to;
            this.rows = rows;
        }
    }

    /** Copies the rows of a {@code [B * oldCapacity, 2 G D]} cache into a {@code [B * newCapacity, 2 G D]} one. */
    public Grow growCache(int batch, int oldCapacity, int newCapacity) {
        Plan.Builder p = Plan.builder();
        Buffer from = p.state("cache", (long) batch * oldCapacity, 2 * gd);
        Buffer to = p.state("cache (grown)", (long) batch * newCapacity, 2 * gd);
        Buffer rows = p.intInput("cacheRows", batch, oldCapacity);
        p.op(new ScatterRowsOp("cache grow", from, 0, 2 * gd, to, 0, rows));
        return new Grow(p.build(), from, to, rows);
    }

    private AttentionOp.Builder attention(int batch, int queries, int keys) {
        return AttentionOp.builder("attention")
                .sizes(batch, config.heads(), config.kvHeads(), queries, keys, config.dimHead())
                .flags(config.scale(), true, config.qkNorm(), config.headMapping());
    }

    /** One interleaved attention call ({@link dev.mmca.backend.Backend#attention(InterleavedProblem,
     * dev.mmca.FloatTensor, dev.mmca.FloatTensor, dev.mmca.FloatTensor, dev.mmca.FloatTensor)}) as a plan. */
    public static final class Call {
        public final Plan plan;
        public final Buffer q;
        public final Buffer k;
        public final Buffer v;
        public final Buffer modality;
        public final Buffer out;

        private Call(InterleavedProblem p) {
            int b = p.batch();
            int n = p.tokens();
            int hd = p.heads() * p.dimHead();
            int gd = p.kvHeads() * p.dimHead();
            Plan.Builder builder = Plan.builder();
            q = builder.input("q", (long) b * n, hd).tokensPerElement(n);
            k = builder.input("k", (long) b * n, gd).tokensPerElement(n);
            v = builder.input("v", (long) b * n, gd).tokensPerElement(n);
            modality = builder.modalityInput("modality", b, n);
            out = builder.output("out", (long) b * n, hd).tokensPerElement(n);
            AttentionOp op = AttentionOp.builder("attention")
                    .sizes(b, p.heads(), p.kvHeads(), n, n, p.dimHead())
                    .flags(p.scale(), true, p.qkNorm(), p.headMapping())
                    .q(q, 0).k(k, 0).v(v, 0).o(out, 0).build();
            builder.op(new InterleavedAttentionOp(op, modality, p.imageAttention()));
            plan = builder.build();
        }

        /** The single operation. */
        public InterleavedAttentionOp op() {
            return (InterleavedAttentionOp) plan.ops().get(0);
        }
    }

    /** The plan of one interleaved attention call. */
    public static Call call(InterleavedProblem problem) {
        return new Call(Objects.requireNonNull(problem, "problem"));
    }
}
