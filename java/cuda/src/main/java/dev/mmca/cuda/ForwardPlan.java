package dev.mmca.cuda;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;

/**
 * The sequence of device operations of one SimpleMMCA forward (SPEC "SimpleMMCA"), independent of
 * how they are carried out, so the same plan runs on the GPU ({@link CudaModel}) and, in tests, on
 * a host interpreter of the same calls:
 * <pre>
 *   qkv_v = v Wqkv_v^T;  o_v = attention(qkv_v);  visual = o_v Wo_v^T
 *   qkv_t = t Wqkv_t^T
 *   CROSS: q_c = t Wq_c^T;  kv_c = visual Wkv_c^T        SEED: u = t + visual;  qkv_c = u Wqkv_c^T
 *   [o_self | o_cross] = fused text attention (two softmaxes, one launch)
 *   text = [o_self | o_cross] [Wo_t | Wo_c]^T        (one GEMM computes the sum of both blocks)
 * </pre>
 * Wqkv stacks {@code to_q; to_k; to_v} row-wise ({@link #stackRows}); {@code [Wo_t | Wo_c]} puts the
 * two output projections side by side ({@link #sideBySide}). Addresses are device addresses of
 * elements of the plan's dtype.
 */
final class ForwardPlan {
    /** The operations a plan issues, all on one stream, in order. */
    interface Ops {
        /** {@code y[r, o] = sum_i x[r, i] w[o, i]}, row strides ldx / ldy, {@code w [out, in]} dense. */
        void linear(CudaDtype dtype, long x, int ldx, long w, long y, int ldy, int rows, int in, int out);

        void attention(long[] desc, int math, long stream);

        void text(long[] selfDesc, long[] crossDesc, int math, long stream);

        void add(long out, long a, long b, long n, int dtype, long stream);
    }

    /** Where the packed weights and the intermediates of one input shape live. */
    static final class Buffers {
        long wqkvVisual;
        long woVisual;
        long wqkvText;
        long wqkvCross;
        long woTextCross;
        long qkvV;
        long oV;
        long qkvT;
        long qkvC;
        long kvC;  // CROSS only
        long u;    // SEED only
        long oT;
    }

    /** Element counts of the intermediates for a batch of {@code b} with {@code nv} visual and {@code nt} text tokens. */
    static final class Sizes {
        final long qkvV;
        final long oV;
        final long qkvT;
        final long qkvC;
        final long kvC;
        final long u;
        final long oT;

        Sizes(MmcaConfig c, int b, int nv, int nt) {
            long rv = (long) b * nv;
            long rt = (long) b * nt;
            long width = c.innerDim() + 2L * c.kvInnerDim();
            boolean cross = c.composition() == Composition.CROSS;
            qkvV = rv * width;
            oV = rv * c.innerDim();
            qkvT = rt * width;
            qkvC = rt * width;
            kvC = cross ? rv * 2L * c.kvInnerDim() : 0;
            u = cross ? 0 : rt * c.dim();
            oT = rt * 2L * c.innerDim();
        }
    }

    private final MmcaConfig config;
    private final CudaDtype dtype;
    private final int math;
    private final long elem;
    private final int hd;
    private final int gd;
    private final int qkvWidth;

    ForwardPlan(MmcaConfig config, CudaPrecision precision) {
        this.config = config;
        this.dtype = precision.dtype();
        this.math = precision.math();
        this.elem = dtype.bytes();
        this.hd = config.innerDim();
        this.gd = config.kvInnerDim();
        this.qkvWidth = hd + 2 * gd;
    }

    /** {@code [to_q; to_k; to_v]}, shape {@code [(H + 2G) * D, dim]}: one GEMM projects q, k and v. */
    static FloatTensor stackRows(MmcaConfig config, MgqaWeights w) {
        int dim = config.dim();
        int hd = config.innerDim();
        int gd = config.kvInnerDim();
        float[] all = new float[(hd + 2 * gd) * dim];
        w.toQ().copyTo(all, 0);
        w.toK().copyTo(all, hd * dim);
        w.toV().copyTo(all, (hd + gd) * dim);
        return FloatTensor.of(all, hd + 2 * gd, dim);
    }

    /** {@code [a | b]} for {@code a, b [dim, H*D]}: shape {@code [dim, 2 * H * D]}. */
    static FloatTensor sideBySide(MmcaConfig config, FloatTensor a, FloatTensor b) {
        int dim = config.dim();
        int hd = config.innerDim();
        float[] x = a.toArray();
        float[] y = b.toArray();
        float[] all = new float[dim * 2 * hd];
        for (int r = 0; r < dim; r++) {
            System.arraycopy(x, r * hd, all, r * 2 * hd, hd);
            System.arraycopy(y, r * hd, all, r * 2 * hd + hd, hd);
        }
        return FloatTensor.of(all, dim, 2 * hd);
    }

    /**
     * Issues the whole forward: inputs {@code xv [b, nv, dim]}, {@code xt [b, nt, dim]}, byte masks (or 0);
     * outputs {@code vis [b, nv, dim]} and {@code text [b, nt, dim]}; everything on stream {@code s}.
     */
    void run(Buffers w, Ops ops, int b, int nv, int nt, long xv, long xt, long vMask, long tMask, long vis, long text,
            long s) {
        int dim = config.dim();
        int rv = b * nv;
        int rt = b * nt;

        // Visual block: packed q|k|v projection, attention, output projection.
        ops.linear(dtype, xv, dim, w.wqkvVisual, w.qkvV, qkvWidth, rv, dim, qkvWidth);
        AttentionDescriptor visual = packedSelf(b, nv, config.visualCausal(), w.qkvV, w.oV, hd)
                .masks(vMask, nv, vMask, nv);
        ops.attention(visual.slots(), math, s);
        ops.linear(dtype, w.oV, hd, w.woVisual, vis, dim, rv, hd, dim);

        // Text block: self-attention q|k|v, and the cross block's q, k, v.
        ops.linear(dtype, xt, dim, w.wqkvText, w.qkvT, qkvWidth, rt, dim, qkvWidth);
        AttentionDescriptor self = packedSelf(b, nt, config.textCausal(), w.qkvT, w.oT, 2 * hd)
                .masks(tMask, nt, tMask, nt);
        AttentionDescriptor cross;
        long crossOut = w.oT + hd * elem;
        if (config.composition() == Composition.CROSS) {
            // q from the text tokens (the first H*D rows of Wqkv_c), k and v from the visual output.
            ops.linear(dtype, xt, dim, w.wqkvCross, w.qkvC, hd, rt, dim, hd);
            long wkv = w.wqkvCross + (long) hd * dim * elem;
            ops.linear(dtype, vis, dim, wkv, w.kvC, 2 * gd, rv, dim, 2 * gd);
            int d = config.dimHead();
            cross = descriptor(b, nt, nv, config.crossCausal())
                    .pointers(w.qkvC, w.kvC, w.kvC + gd * elem, crossOut)
                    .strides(AttentionDescriptor.Q_STRIDES, (long) nt * hd, hd, d)
                    .strides(AttentionDescriptor.K_STRIDES, (long) nv * 2 * gd, 2 * gd, d)
                    .strides(AttentionDescriptor.V_STRIDES, (long) nv * 2 * gd, 2 * gd, d)
                    .strides(AttentionDescriptor.O_STRIDES, (long) nt * 2 * hd, 2 * hd, d)
                    .masks(vMask, nv, tMask, nt);
        } else {
            // SEED: the cross block is self-attention over u = t + visual (Nv == Nt, validated by the caller).
            ops.add(w.u, xt, vis, (long) rt * dim, dtype.code(), s);
            ops.linear(dtype, w.u, dim, w.wqkvCross, w.qkvC, qkvWidth, rt, dim, qkvWidth);
            cross = packedSelf(b, nt, config.crossCausal(), w.qkvC, crossOut, 2 * hd).masks(tMask, nt, tMask, nt);
        }
        ops.text(self.slots(), cross.slots(), math, s);
        // text = o_self Wo_t^T + o_cross Wo_c^T as one GEMM over the side-by-side halves
        ops.linear(dtype, w.oT, 2 * hd, w.woTextCross, text, dim, rt, 2 * hd, dim);
    }

    private AttentionDescriptor descriptor(int batch, int queries, int keys, boolean causal) {
        return new AttentionDescriptor()
                .sizes(batch, config.heads(), config.kvHeads(), queries, keys, config.dimHead())
                .flags(config.scale(), causal, config.qkNorm(), config.headMapping(), dtype);
    }

    /** Self-attention reading q, k and v from one packed {@code [B * n, (H + 2G) * D]} projection. */
    private AttentionDescriptor packedSelf(int batch, int n, boolean causal, long qkv, long out, int outRowStride) {
        int d = config.dimHead();
        return descriptor(batch, n, n, causal)
                .pointers(qkv, qkv + hd * elem, qkv + (hd + gd) * elem, out)
                .strides(AttentionDescriptor.Q_STRIDES, (long) n * qkvWidth, qkvWidth, d)
                .strides(AttentionDescriptor.K_STRIDES, (long) n * qkvWidth, qkvWidth, d)
                .strides(AttentionDescriptor.V_STRIDES, (long) n * qkvWidth, qkvWidth, d)
                .strides(AttentionDescriptor.O_STRIDES, (long) n * outRowStride, outRowStride, d);
    }
}
