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
        Buffer visual = p.input("visual", rv, dim);
        Buffer text = p.input("text", rt, dim);
        Buffer vMask = hasVisualMask ? p.maskInput("visualMask", batch, nv) : null;
        Buffer tMask = hasTextMask ? p.maskInput("textMask", batch, nt) : null;
        Buffer visualOut = p.output("visualOut", rv, dim);
        Buffer textOut = p.output("textOut", rt, dim);

        // visual = visual_self_attn(v, mask = vMask)
        Buffer qkvV = p.scratch("visual_self_attn.qkv", rv, hd + 2 * gd);
        Buffer oV = p.scratch("visual_self_attn.heads", rv, hd);
        p.op(new LinearOp("visual_self_attn.to_q|to_k|to_v", visual, VISUAL_QKV, qkvV));
        p.op(selfAttention("visual_self_attn.attention", batch, nv, config.visualCausal(), qkvV, oV, 0, vMask));
        p.op(new LinearOp("visual_self_attn.to_out", oV, VISUAL_OUT, visualOut));

        // text = textual_self_attn(t) + cross_attn(...): both head outputs side by side in oT
        Buffer projT = p.scratch(cross ? "textual_self_attn.qkv+cross_attn.q" : "textual_self_attn.qkv", rt,
                cross ? 2 * hd + 2 * gd : hd + 2 * gd);
        Buffer oT = p.scratch("textual_self_attn.heads|cross_attn.heads", rt, 2 * hd);
        p.op(new LinearOp(cross ? "textual_self_attn.to_q|to_k|to_v+cross_attn.to_q" : "textual_self_attn.to_q|to_k|to_v",
                text, TEXT_IN, projT));
        AttentionOp self = selfAttention("textual_self_attn.attention", batch, nt, config.textCausal(), projT, oT, 0,
                tMask);
        AttentionOp crossOp;
        if (cross) {
            // cross_attn(t, context = visual, mask = tMask, contextMask = vMask): queries from t, keys from visual
            Buffer kvC = p.scratch("cross_attn.kv", rv, 2 * gd);
            p.op(new LinearOp("cross_attn.to_k|to_v", visualOut, CROSS_IN, kvC));
            crossOp = attention("cross_attn.attention", batch, nt, nv, config.crossCausal())
                    .q(projT, hd + 2 * gd).k(kvC, 0).v(kvC, gd).o(oT, hd)
                    .keyMask(vMask).queryMask(tMask).build();
        } else {
            // SEED: cross_attn(t + visual) as self-attention over the sum (Nv == Nt)
            Buffer u = p.scratch("cross_attn.input", rt, dim);
            Buffer qkvC = p.scratch("cross_attn.qkv", rt, hd + 2 * gd);
            p.op(new AddOp("cross_attn.input = text + visual", text, visualOut, u));
            p.op(new LinearOp("cross_attn.to_q|to_k|to_v", u, CROSS_IN, qkvC));
            crossOp = selfAttention("cross_attn.attention", batch, nt, config.crossCausal(), qkvC, oT, hd, tMask);
        }
        p.op(new TextAttentionOp("textual_self_attn+cross_attn.attention", self, crossOp));
        p.op(new LinearOp("textual_self_attn.to_out+cross_attn.to_out", oT, TEXT_OUT, textOut));
        return new Forward(p.build(), visual, text, vMask, tMask, visualOut, textOut);
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
