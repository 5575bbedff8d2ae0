package dev.mmca.backend.java;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.PreparedModel;

/**
 * SimpleMMCA on the Java backend. Weights are packed once, per input: everything projected from
 * one tensor comes out of one GEMM ({@code [q | k | v]} of a block; under CROSS, the textual
 * {@code [q | k | v]} and the cross queries together), and the text output is one GEMM over the
 * two attention outputs laid side by side: {@code text = [o_self | o_cross] * [Wo_t | Wo_c]^T}.
 * Holds no per-call state, so concurrent forward calls are safe.
 */
final class JavaModel implements PreparedModel {
    private final MmcaConfig config;
    private final PackedLinear visualQkv;
    private final PackedLinear visualOut;
    /** CROSS: [tq; tk; tv; cq] from t. SEED: [tq; tk; tv] from t. */
    private final PackedLinear textIn;
    /** CROSS: [ck; cv] from the visual output. SEED: [cq; ck; cv] from t + visual. */
    private final PackedLinear crossIn;
    /** [Wo_t | Wo_c] over [o_self | o_cross]. */
    private final PackedLinear textOut;

    JavaModel(MmcaConfig config, MmcaWeights w) {
        this.config = config;
        MgqaWeights vis = w.visualSelf();
        MgqaWeights txt = w.textualSelf();
        MgqaWeights crs = w.cross();
        this.visualQkv = PackedLinear.stack(vis.toQ(), vis.toK(), vis.toV());
        this.visualOut = PackedLinear.stack(vis.toOut());
        if (config.composition() == Composition.CROSS) {
            this.textIn = PackedLinear.stack(txt.toQ(), txt.toK(), txt.toV(), crs.toQ());
            this.crossIn = PackedLinear.stack(crs.toK(), crs.toV());
        } else {
            this.textIn = PackedLinear.stack(txt.toQ(), txt.toK(), txt.toV());
            this.crossIn = PackedLinear.stack(crs.toQ(), crs.toK(), crs.toV());
        }
        this.textOut = PackedLinear.concatInputs(txt.toOut(), crs.toOut());
    }

    @Override
    public MmcaConfig config() {
        return config;
    }

    @Override
    public void forward(MmcaInputs in, FloatTensor visualOutT, FloatTensor textOutT) {
        final int b = in.batch();
        final int nv = in.visualTokens();
        final int nt = in.textTokens();
        final int hd = config.innerDim();
        final int gd = config.kvInnerDim();
        final int qkv = hd + 2 * gd;
        byte[] vMask = bytes(in.visualMask());
        byte[] tMask = bytes(in.textMask());

        // visual = visual_self_attn(v, mask = vMask)
        float[] v = array(in.visual());
        float[] visualQkvOut = new float[b * nv * qkv];
        visualQkv.apply(v, b * nv, visualQkvOut);
        float[] oVisual = new float[b * nv * hd];
        AttentionArgs va = packedSelf(visualQkvOut, qkv, b, nv, oVisual, 0, hd);
        va.keyMask = vMask;
        va.queryMask = vMask;
        va.causal = config.visualCausal();
        FusedAttention.run(va);
        float[] visual = visualOutT.hasArray() ? visualOutT.array() : new float[b * nv * config.dim()];
        visualOut.apply(oVisual, b * nv, visual);

        // text = textual_self_attn(t) + cross_attn(...), both head outputs side by side in oText
        float[] t = array(in.text());
        float[] textProj = new float[b * nt * textIn.out];
        textIn.apply(t, b * nt, textProj);
        float[] oText = new float[b * nt * 2 * hd];
        AttentionArgs self = packedSelf(textProj, textIn.out, b, nt, oText, 0, 2 * hd);
        self.keyMask = tMask;
        self.queryMask = tMask;
        self.causal = config.textCausal();

        AttentionArgs cross;
        if (config.composition() == Composition.CROSS) {
            // queries from t (last hd columns of textProj); keys/values from the visual output
            float[] crossKv = new float[b * nv * 2 * gd];
            crossIn.apply(visual, b * nv, crossKv);
            cross = args(b, nt, nv);
            cross.q = textProj;
            cross.qOffset = qkv;
            cross.qRowStride = textIn.out;
            cross.qBatchStride = nt * textIn.out;
            cross.k = crossKv;
            cross.kOffset = 0;
            cross.v = crossKv;
            cross.vOffset = gd;
            cross.kRowStride = cross.vRowStride = 2 * gd;
            cross.kBatchStride = cross.vBatchStride = nv * 2 * gd;
            cross.keyMask = vMask;
        } else {
            // SEED: cross_attn(t + visual) as self-attention over the sum
            float[] sum = new float[b * nt * config.dim()];
            for (int i = 0; i < sum.length; i++) {
                sum[i] = t[i] + visual[i];
            }
            float[] crossProj = new float[b * nt * qkv];
            crossIn.apply(sum, b * nt, crossProj);
            cross = packedSelf(crossProj, qkv, b, nt, oText, 0, 2 * hd);
            cross.keyMask = tMask;
        }
        cross.o = oText;
        cross.oOffset = hd;
        cross.oRowStride = 2 * hd;
        cross.oBatchStride = nt * 2 * hd;
        cross.queryMask = tMask;
        cross.causal = config.crossCausal();
        FusedAttention.run(self);
        FusedAttention.run(cross);

        float[] text = textOutT.hasArray() ? textOutT.array() : new float[b * nt * config.dim()];
        textOut.apply(oText, b * nt, text);
        if (!visualOutT.hasArray()) {
            visualOutT.copyFrom(visual, 0);
        }
        if (!textOutT.hasArray()) {
            textOutT.copyFrom(text, 0);
        }
    }

    private AttentionArgs args(int b, int n, int m) {
        AttentionArgs a = new AttentionArgs();
        a.batch = b;
        a.heads = config.heads();
        a.kvHeads = config.kvHeads();
        a.queries = n;
        a.keys = m;
        a.dimHead = config.dimHead();
        a.scale = config.scale();
        a.qkNorm = config.qkNorm();
        a.headMapping = config.headMapping();
        return a;
    }

    /** Self-attention over a packed {@code [q | k | v | ...]} projection of row width {@code width}. */
    private AttentionArgs packedSelf(float[] proj, int width, int b, int n, float[] o, int oOffset, int oRowStride) {
        AttentionArgs a = args(b, n, n);
        int hd = config.innerDim();
        int gd = config.kvInnerDim();
        a.q = a.k = a.v = proj;
        a.qOffset = 0;
        a.kOffset = hd;
        a.vOffset = hd + gd;
        a.qRowStride = a.kRowStride = a.vRowStride = width;
        a.qBatchStride = a.kBatchStride = a.vBatchStride = n * width;
        a.o = o;
        a.oOffset = oOffset;
        a.oRowStride = oRowStride;
        a.oBatchStride = n * oRowStride;
        return a;
    }

    private static float[] array(FloatTensor t) {
        return t.hasArray() ? t.array() : t.toArray();
    }

    private static byte[] bytes(Mask m) {
        return m == null ? null : m.bytesView();
    }

    @Override
    public void close() {
        // heap memory only: nothing to release
    }
}
