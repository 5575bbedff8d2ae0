package dev.mmca.plan;

import dev.mmca.Composition;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import java.util.List;
import java.util.Objects;

/**
 * SimpleMMCA (SPEC "SimpleMMCA") as a plan: the composition of the model, written once for every backend.
 *
 * <p>Weights are packed so that everything projected from one tensor is one GEMM, five GEMMs in all:
 * <pre>
 *   CROSS                                              SEED
 *   qkv_v  = v [Wq; Wk; Wv]_vis^T                     (the same)
 *   o_v    = attention(qkv_v, vMask)                  causal when the one flag is on
 *   visual = o_v Wo_vis^T
 *   proj_t = t [Wq_t; Wk_t; Wv_t; Wq_c]^T              proj_t = t [Wq_t; Wk_t; Wv_t]^T
 *   kv_c   = visual [Wk_c; Wv_c]^T                     u = t + visual;  qkv_c = u [Wq_c; Wk_c; Wv_c]^T
 *   [o_self | o_cross] = fused text attention (two softmaxes over the same queries)
 *   text   = [o_self | o_cross] [Wo_t | Wo_c]^T        (one GEMM gives o_self Wo_t^T + o_cross Wo_c^T)
 * </pre>
 * Under CROSS the self half is causal when {@code causal} and the cross half never is; under SEED one causal
 * flag drives all three blocks. The logit scale is {@link MmcaConfig#scale()} everywhere.
 */
public final class SimpleMmcaPlan {
    /** Indices of {@link #packWeights}'s matrices, referenced by the plans' {@link LinearOp}s. */
    public static final int VISUAL_QKV = 0;
    public static final int VISUAL_OUT = 1;
    public static final int TEXT_IN = 2;
    public static final int CROSS_IN = 3;
    public static final int TEXT_OUT = 4;

    private final MmcaConfig config;
    private final boolean cross;
    private final int hd;
    private final int gd;

    private SimpleMmcaPlan(MmcaConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        if (config.composition() == Composition.INTERLEAVED) {
            throw new IllegalArgumentException("composition: INTERLEAVED is one attention block over one sequence of"
                    + " text and image tokens, not a SimpleMMCA composition (two inputs, three blocks); run it with"
                    + " InterleavedMmca");
        }
        this.cross = config.composition() == Composition.CROSS;
        this.hd = config.innerDim();
        this.gd = config.kvInnerDim();
    }

    public static SimpleMmcaPlan of(MmcaConfig config) {
        return new SimpleMmcaPlan(config);
    }

    public MmcaConfig config() {
        return config;
    }

    /** The five packed matrices, in index order ({@link #VISUAL_QKV} ... {@link #TEXT_OUT}). */
    public List<PackedWeight> packWeights(MmcaWeights w) {
        MgqaWeights vis = w.visualSelf();
        MgqaWeights txt = w.textualSelf();
        MgqaWeights crs = w.cross();
        PackedWeight textIn = cross
                ? PackedWeight.stack("textual_self_attn.to_q|to_k|to_v+cross_attn.to_q", txt.toQ(), txt.toK(),
                        txt.toV(), crs.toQ())
                : PackedWeight.stack("textual_self_attn.to_q|to_k|to_v", txt.toQ(), txt.toK(), txt.toV());
        PackedWeight crossIn = cross
                ? PackedWeight.stack("cross_attn.to_k|to_v", crs.toK(), crs.toV())
                : PackedWeight.stack("cross_attn.to_q|to_k|to_v", crs.toQ(), crs.toK(), crs.toV());
        return List.of(
                PackedWeight.stack("visual_self_attn.to_q|to_k|to_v", vis.toQ(), vis.toK(), vis.toV()),
                PackedWeight.stack("visual_self_attn.to_out", vis.toOut()),
                textIn,
                crossIn,
                PackedWeight.concatInputs("textual_self_attn.to_out+cross_attn.to_out", txt.toOut(), crs.toOut()));
    }

    /** The tensors of a forward plan that the caller binds. */
    public static final class Forward {
        public final Plan plan;
        public final Buffer visual;
        public final Buffer text;
        /** Null when the call has no visual mask. */
        public final Buffer visualMask;
        /** Null when the call has no text mask. */
        public final Buffer textMask;
        public final Buffer visualOut;
        public final Buffer textOut;

        Forward(Plan plan, Buffer visual, Buffer text, Buffer visualMask, Buffer textMask, Buffer visualOut,
                Buffer textOut) {
            this.plan = plan;
            this.visual = visual;
            this.text = text;
            this.visualMask = visualMask;
            this.textMask = textMask;
            this.visualOut = visualOut;
            this.textOut = textOut;
        }
    }

    /**
     * The forward over {@code batch} elements of {@code nv} visual and {@code nt} text tokens, with or
     * without each mask. Shapes are the caller's to check ({@link dev.mmca.MmcaInputs#validate}).
     */
    public Forward forward(int batch, int nv, int nt, boolean hasVisualMask, boolean hasTextMask) {
        int dim = config.dim();
        long rv = (long) batch * nv;
        long rt = (long) batch * nt;
        Plan.Builder p = Plan.builder();
        Buffer visual = p.input("visual", rv, dim).tokensPerElement(nv);
        Buffer text = p.input("text", rt, dim).tokensPerElement(nt);
        Buffer vMask = hasVisualMask ? p.maskInput("visualMask", batch, nv) : null;
        Buffer tMask = hasTextMask ? p.maskInput("textMask", batch, nt) : null;
        Buffer visualOut = p.output("visualOut", rv, dim).tokensPerElement(nv);
        Buffer textOut = p.output("textOut", rt, dim).tokensPerElement(nt);

        // visual = visual_self_attn(v, mask = vMask)
        Buffer qkvV = p.scratch("visual_self_attn.qkv", rv, hd + 2 * gd).tokensPerElement(nv);
        Buffer oV = p.scratch("visual_self_attn.heads", rv, hd).tokensPerElement(nv);
        p.op(new LinearOp("visual_self_attn.to_q|to_k|to_v", visual, VISUAL_QKV, qkvV));
        p.op(selfAttention("visual_self_attn.attention", batch, nv, config.visualCausal(), qkvV, oV, 0, vMask));
        p.op(new LinearOp("visual_self_attn.to_out", oV, VISUAL_OUT, visualOut));

        // text = textual_self_attn(t) + cross_attn(...): both head outputs side by side in oT
        Buffer projT = p.scratch(cross ? "textual_self_attn.qkv+cross_attn.q" : "textual_self_attn.qkv", rt,
                cross ? 2 * hd + 2 * gd : hd + 2 * gd).tokensPerElement(nt);
        Buffer oT = p.scratch("textual_self_attn.heads|cross_attn.heads", rt, 2 * hd).tokensPerElement(nt);
        p.op(new LinearOp(cross ? "textual_self_attn.to_q|to_k|to_v+cross_attn.to_q" : "textual_self_attn.to_q|to_k|to_v",
                text, TEXT_IN, projT));
        AttentionOp self = selfAttention("textual_self_attn.attention", batch, nt, config.textCausal(), projT, oT, 0,
                tMask);
        AttentionOp crossOp;
        if (cross) {
            // cross_attn(t, context = visual, mask = tMask, contextMask = vMask): queries from t, keys from visual
            Buffer kvC = p.scratch("cross_attn.kv", rv, 2 * gd).tokensPerElement(nv);
            p.op(new LinearOp("cross_attn.to_k|to_v", visualOut, CROSS_IN, kvC));
            crossOp = attention("cross_attn.attention", batch, nt, nv, config.crossCausal())
                    .q(projT, hd + 2 * gd).k(kvC, 0).v(kvC, gd).o(oT, hd)
                    .keyMask(vMask).queryMask(tMask).build();
        } else {
            // SEED: cross_attn(t + visual) as self-attention over the sum (Nv == Nt)
            Buffer u = p.scratch("cross_attn.input", rt, dim).tokensPerElement(nt);
            Buffer qkvC = p.scratch("cross_attn.qkv", rt, hd + 2 * gd).tokensPerElement(nt);
            p.op(new AddOp("cross_attn.input = text + visual", text, visualOut, u));
            p.op(new LinearOp("cross_attn.to_q|to_k|to_v", u, CROSS_IN, qkvC));
            crossOp = selfAttention("cross_attn.attention", batch, nt, config.crossCausal(), qkvC, oT, hd, tMask);
        }
        p.op(new TextAttentionOp("textual_self_attn+cross_attn.attention", self, crossOp));
        p.op(new LinearOp("textual_self_attn.to_out+cross_attn.to_out", oT, TEXT_OUT, textOut));
        return new Forward(p.build(), visual, text, vMask, tMask, visualOut, textOut);
    }

    /** The tensors of the visual encoding plan of incremental decoding. */
    public static final class Encode {
        public final Plan plan;
        public final Buffer visual;
        /** Null without a visual mask. */
        public final Buffer visualMask;
        public final Buffer visualOut;
        /** State: the cross-attention keys and values {@code [B * Nv, 2 G D]} ({@code k | v}) of the visual output. */
        public final Buffer crossKv;

        Encode(Plan plan, Buffer visual, Buffer visualMask, Buffer visualOut, Buffer crossKv) {
            this.plan = plan;
            this.visual = visual;
            this.visualMask = visualMask;
            this.visualOut = visualOut;
            this.crossKv = crossKv;
        }
    }

    /**
     * Incremental decoding, first part (SPEC "Incremental text decoding", composition CROSS): the visual block
     * as in the forward, then the cross-attention keys and values of its output, kept as state.
     */
    public Encode encodeVisual(int batch, int nv, boolean hasVisualMask) {
        requireDecodable();
        long rv = (long) batch * nv;
        Plan.Builder p = Plan.builder();
        Buffer visual = p.input("visual", rv, config.dim()).tokensPerElement(nv);
        Buffer vMask = hasVisualMask ? p.maskInput("visualMask", batch, nv) : null;
        Buffer visualOut = p.output("visualOut", rv, config.dim()).tokensPerElement(nv);
        Buffer kvC = p.state("cross_attn.kv", rv, 2 * gd).tokensPerElement(nv);
        Buffer qkvV = p.scratch("visual_self_attn.qkv", rv, hd + 2 * gd).tokensPerElement(nv);
        Buffer oV = p.scratch("visual_self_attn.heads", rv, hd).tokensPerElement(nv);
        p.op(new LinearOp("visual_self_attn.to_q|to_k|to_v", visual, VISUAL_QKV, qkvV));
        p.op(selfAttention("visual_self_attn.attention", batch, nv, config.visualCausal(), qkvV, oV, 0, vMask));
        p.op(new LinearOp("visual_self_attn.to_out", oV, VISUAL_OUT, visualOut));
        p.op(new LinearOp("cross_attn.to_k|to_v", visualOut, CROSS_IN, kvC));
        return new Encode(p.build(), visual, vMask, visualOut, kvC);
    }

    /** The tensors of one decoding step. */
    public static final class Step {
        public final Plan plan;
        public final Buffer text;
        /** Null without a text mask. */
        public final Buffer textMask;
        /** Null without a visual mask. */
        public final Buffer visualMask;
        /** State: the visual context's cross keys and values. */
        public final Buffer crossKv;
        /** State: the text self-attention cache {@code [B * capacity, 2 G D]} ({@code k | v}, real tokens in order). */
        public final Buffer cache;
        /** {@code [B * n]} int32: the cache row of each new token, or -1 for padding (not cached). */
        public final Buffer cacheRows;
        /** {@code [B]} int32: text tokens cached per element after this step. */
        public final Buffer keyLengths;
        /** {@code [B, n]} int32: each new token's position in its element's cache (its causal horizon). */
        public final Buffer queryPositions;
        public final Buffer textOut;

        Step(Plan plan, Buffer text, Buffer textMask, Buffer visualMask, Buffer crossKv, Buffer cache, Buffer cacheRows,
                Buffer keyLengths, Buffer queryPositions, Buffer textOut) {
            this.plan = plan;
            this.text = text;
            this.textMask = textMask;
            this.visualMask = visualMask;
            this.crossKv = crossKv;
            this.cache = cache;
            this.cacheRows = cacheRows;
            this.keyLengths = keyLengths;
            this.queryPositions = queryPositions;
            this.textOut = textOut;
        }
    }

    /**
     * One decoding step of {@code n} new text tokens per element (SPEC "Incremental text decoding"): project
     * them as the forward does, append their keys and values to the cache (padding skipped), then the fused
     * text attention of the new rows over the cache (causal, per-element lengths and positions) and over the
     * visual context, and the output projection. The new rows equal the forward's rows for those tokens.
     */
    public Step decodeStep(int batch, int n, int capacity, int nv, boolean hasTextMask, boolean hasVisualMask) {
        requireDecodable();
        long rt = (long) batch * n;
        Plan.Builder p = Plan.builder();
        Buffer text = p.input("text", rt, config.dim()).tokensPerElement(n);
        Buffer tMask = hasTextMask ? p.maskInput("textMask", batch, n) : null;
        Buffer vMask = hasVisualMask ? p.maskInput("visualMask", batch, nv) : null;
        Buffer rows = p.intInput("cacheRows", batch, n);
        Buffer lengths = p.intInput("keyLengths", batch, 1);
        Buffer positions = p.intInput("queryPositions", batch, n);
        Buffer kvC = p.state("cross_attn.kv", (long) batch * nv, 2 * gd);
        Buffer cache = p.state("textual_self_attn.cache", (long) batch * capacity, 2 * gd);
        Buffer textOut = p.output("textOut", rt, config.dim()).tokensPerElement(n);
        Buffer projT = p.scratch("textual_self_attn.qkv+cross_attn.q", rt, 2 * hd + 2 * gd).tokensPerElement(n);
        Buffer oT = p.scratch("textual_self_attn.heads|cross_attn.heads", rt, 2 * hd).tokensPerElement(n);
        p.op(new LinearOp("textual_self_attn.to_q|to_k|to_v+cross_attn.to_q", text, TEXT_IN, projT));
        p.op(new ScatterRowsOp("textual_self_attn.cache append", projT, hd, 2 * gd, cache, 0, rows));
        AttentionOp self = attention("textual_self_attn.attention", batch, n, capacity, true)
                .q(projT, 0).k(cache, 0).v(cache, gd).o(oT, 0)
                .queryMask(tMask).keyLengths(lengths).queryPositions(positions).build();
        AttentionOp crossOp = attention("cross_attn.attention", batch, n, nv, false)
                .q(projT, hd + 2 * gd).k(kvC, 0).v(kvC, gd).o(oT, hd)
                .keyMask(vMask).queryMask(tMask).build();
        p.op(new TextAttentionOp("textual_self_attn+cross_attn.attention", self, crossOp));
        p.op(new LinearOp("textual_self_attn.to_out+cross_attn.to_out", oT, TEXT_OUT, textOut));
        return new Step(p.build(), text, tMask, vMask, kvC, cache, rows, lengths, positions, textOut);
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
        Buffer from = p.state("textual_self_attn.cache", (long) batch * oldCapacity, 2 * gd);
        Buffer to = p.state("textual_self_attn.cache (grown)", (long) batch * newCapacity, 2 * gd);
        Buffer rows = p.intInput("cacheRows", batch, oldCapacity);
        p.op(new ScatterRowsOp("textual_self_attn.cache grow", from, 0, 2 * gd, to, 0, rows));
        return new Grow(p.build(), from, to, rows);
    }

    /** Width {@code 2 G D} of a cache row ({@code k | v}). */
    public int cacheWidth() {
        return 2 * gd;
    }

    /**
     * Incremental decoding needs composition CROSS with causal text: SEED adds the visual output to the text
     * token by token, and non-causal text attention lets earlier tokens see later ones.
     */
    public void requireDecodable() {
        if (!cross) {
            throw new IllegalStateException("incremental decoding: composition SEED adds the visual output to the text"
                    + " token by token (it needs Nv == Nt and every text token at once), so its text cannot be"
                    + " decoded in steps; use composition CROSS");
        }
        if (!config.textCausal()) {
            throw new IllegalStateException("incremental decoding: the text self-attention is not causal, so an earlier"
                    + " token's output depends on later tokens and cannot be computed before they arrive; use"
                    + " causal = true");
        }
    }

    private AttentionOp.Builder attention(String name, int batch, int queries, int keys, boolean causal) {
        return AttentionOp.builder(name)
                .sizes(batch, config.heads(), config.kvHeads(), queries, keys, config.dimHead())
                .flags(config.scale(), causal, config.qkNorm(), config.headMapping());
    }

    /** Self-attention over a packed {@code [q | k | v | ...]} projection, written at column {@code oColumn} of o. */
    private AttentionOp selfAttention(String name, int batch, int n, boolean causal, Buffer qkv, Buffer o, int oColumn,
            Buffer mask) {
        return attention(name, batch, n, n, causal).q(qkv, 0).k(qkv, hd).v(qkv, hd + gd).o(o, oColumn)
                .keyMask(mask).queryMask(mask).build();
    }
}
