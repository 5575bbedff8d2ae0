package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.Mask;
import dev.mmca.Modality;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.AttentionProblem;

/**
 * The exact answer: docs/SPEC.md computed as literally as possible in float64, one loop per formula, with no
 * tiling, no online softmax and no shortcuts, so that it can be read against the specification line by line.
 * Every backend is judged against it (with the bounds of {@link Precision}); it is itself checked against an
 * independent PyTorch implementation in float64.
 *
 * <p>It is slow on purpose (about {@code B * N * dim * heads * dimHead} multiply-adds per projection in plain
 * loops): meant for parity checks on small inputs, not for production. Thread-safe (no state).
 */
public final class Reference64 {
    private Reference64() {
    }

    /** Result of {@link #simpleMmca}: {@code visual [B][Nv][dim]} and {@code text [B][Nt][dim]} in float64. */
    public static final class Output {
        public final double[][][] visual;
        public final double[][][] text;

        Output(double[][][] visual, double[][][] text) {
            this.visual = visual;
            this.text = text;
        }
    }

    /**
     * SPEC "SimpleMMCA": both outputs of the model {@code c} with weights {@code w} on {@code visual [B, Nv, dim]}
     * and {@code text [B, Nt, dim]}. Masks ({@code [B, N]}, true = real token) may be null.
     *
     * @throws IllegalArgumentException for a composition this reference does not define
     */
    public static Output simpleMmca(MmcaConfig c, MmcaWeights w, FloatTensor visual, FloatTensor text,
            Mask visualMask, Mask textMask) {
        double[][][] v = toDouble(visual);
        double[][][] t = toDouble(text);
        boolean[][] vm = toBool(visualMask, v.length, v[0].length);
        boolean[][] tm = toBool(textMask, t.length, t[0].length);
        switch (c.composition()) {
            case CROSS: {
                double[][][] vis = mgqa(c, w.visualSelf(), v, null, vm, null, false);
                double[][][] self = mgqa(c, w.textualSelf(), t, null, tm, null, c.causal());
                double[][][] cross = mgqa(c, w.cross(), t, vis, tm, vm, false);
                return new Output(vis, add(self, cross));
            }
            case SEED: {
                double[][][] vis = mgqa(c, w.visualSelf(), v, null, vm, null, c.causal());
                double[][][] self = mgqa(c, w.textualSelf(), t, null, tm, null, c.causal());
                double[][][] cross = mgqa(c, w.cross(), add(t, vis), null, tm, null, c.causal());
                return new Output(vis, add(self, cross));
            }
            default:
                throw new IllegalArgumentException("composition: the float64 reference of SimpleMMCA defines cross"
                        + " and seed, got " + c.composition());
        }
    }

    /** {@link #simpleMmca(MmcaConfig, MmcaWeights, FloatTensor, FloatTensor, Mask, Mask)} on {@code in}'s tensors and masks. */
    public static Output simpleMmca(MmcaConfig c, MmcaWeights w, MmcaInputs in) {
        return simpleMmca(c, w, in.visual(), in.text(), in.visualMask(), in.textMask());
    }

    /**
     * SPEC "One grouped-query attention block" on {@code x [B][N][dim]}. {@code context} null means
     * self-attention, and then {@code mask} is also the key mask. Masks are {@code [B][N]} / {@code [B][M]} or null.
     */
    public static double[][][] mgqa(MmcaConfig c, MgqaWeights w, double[][][] x, double[][][] context,
            boolean[][] mask, boolean[][] contextMask, boolean causal) {
        int heads = c.heads();
        int kvHeads = c.kvHeads();
        int d = c.dimHead();
        double[][][] kvIn = context != null ? context : x;
        boolean[][] keyMask = context != null ? contextMask : mask;
        int batch = x.length;
        int n = x[0].length;
        int m = kvIn[0].length;
        double[][] wq = toDouble2(w.toQ());
        double[][] wk = toDouble2(w.toK());
        double[][] wv = toDouble2(w.toV());
        double[][] wo = toDouble2(w.toOut());
        double scale = c.qkNorm() ? MmcaConfig.QK_NORM_SCALE : 1.0 / Math.sqrt(d);
        double[][][] out = new double[batch][n][];
        for (int b = 0; b < batch; b++) {
            double[][] q = linear(x[b], wq);
            double[][] k = linear(kvIn[b], wk);
            double[][] v = linear(kvIn[b], wv);
            double[][] o = new double[n][heads * d];
            for (int h = 0; h < heads; h++) {
                int g = c.headMapping().kvHeadOf(h, heads, kvHeads);
                for (int i = 0; i < n; i++) {
                    boolean[] visible = new boolean[m];
                    for (int j = 0; j < m; j++) {
                        visible[j] = (keyMask == null || keyMask[b][j]) && (!causal || j <= i + (m - n));
                    }
                    attendQuery(q[i], h, g, d, k, v, visible, scale, c.qkNorm(), o[i]);
                }
            }
            out[b] = linear(o, wo);
            for (int i = 0; i < n; i++) {
                if (mask != null && !mask[b][i]) {
                    out[b][i] = new double[out[b][i].length];
                }
            }
        }
        return out;
    }

    /**
     * Fused attention alone (as {@link dev.mmca.backend.Backend#attention} defines it) in float64:
     * {@code q [B, N, H*D]}, {@code k, v [B, M, G*D]}; returns {@code [B][N][H*D]}.
     */
    public static double[][][] attention(AttentionProblem p, FloatTensor q, FloatTensor k, FloatTensor v) {
        int batch = p.batch();
        int n = p.queries();
        int m = p.keys();
        int heads = p.heads();
        int d = p.dimHead();
        double[][][] qd = toDouble(q);
        double[][][] kd = toDouble(k);
        double[][][] vd = toDouble(v);
        double[][][] out = new double[batch][n][heads * d];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = p.headMapping().kvHeadOf(h, heads, p.kvHeads());
                for (int i = 0; i < n; i++) {
                    if (p.queryMask() != null && !p.queryMask().get(b, i)) {
                        continue;
                    }
                    boolean[] visible = new boolean[m];
                    for (int j = 0; j < m; j++) {
                        visible[j] = (p.keyMask() == null || p.keyMask().get(b, j))
                                && (!p.causal() || j <= i + p.causalOffset());
                    }
                    attendQuery(qd[b][i], h, g, d, kd[b], vd[b], visible, p.scale(), p.qkNorm(), out[b][i]);
                }
            }
        }
        return out;
    }

    /**
     * One query row, one head: {@code oRow[h*D:(h+1)*D] += sum_j softmax_j(scale * q_h . k_j) v_j} over the
     * visible keys j, reading kv head {@code g} (SPEC steps 3-5). No visible key: the head output stays zero.
     */
    static void attendQuery(double[] qRow, int h, int g, int d, double[][] k, double[][] v, boolean[] visible,
            double scale, boolean qkNorm, double[] oRow) {
        int m = visible.length;
        double[] qi = slice(qRow, h * d, d);
        if (qkNorm) {
            qi = l2normalize(qi);
        }
        double[] logits = new double[m];
        double max = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < m; j++) {
            if (!visible[j]) {
                continue;
            }
            double[] kj = slice(k[j], g * d, d);
            if (qkNorm) {
                kj = l2normalize(kj);
            }
            double dot = 0;
            for (int e = 0; e < d; e++) {
                dot += qi[e] * kj[e];
            }
            logits[j] = scale * dot;
            max = Math.max(max, logits[j]);
        }
        if (max == Double.NEGATIVE_INFINITY) {
            return;
        }
        double sum = 0;
        double[] p = new double[m];
        for (int j = 0; j < m; j++) {
            if (visible[j]) {
                p[j] = Math.exp(logits[j] - max);
                sum += p[j];
            }
        }
        for (int j = 0; j < m; j++) {
            if (visible[j]) {
                for (int e = 0; e < d; e++) {
                    oRow[h * d + e] += p[j] / sum * v[j][g * d + e];
                }
            }
        }
    }

    /**
     * SPEC "Interleaved MMCA": one block over {@code x [B, N, dim]} with {@code modality [B, N]}; returns
     * {@code [B, N, dim]}. Each query's groups T and I are built from their definitions, each gets its own
     * softmax ({@link #attendQuery}), and the two are added; padding rows are zero.
     */
    public static double[][][] interleaved(MmcaConfig c, MgqaWeights w, FloatTensor x, Modality modality) {
        double[][][] xd = toDouble(x);
        int batch = xd.length;
        int n = xd[0].length;
        int d = c.dimHead();
        double[][] wq = toDouble2(w.toQ());
        double[][] wk = toDouble2(w.toK());
        double[][] wv = toDouble2(w.toV());
        double[][] wo = toDouble2(w.toOut());
        double scale = c.qkNorm() ? MmcaConfig.QK_NORM_SCALE : 1.0 / Math.sqrt(d);
        double[][][] out = new double[batch][][];
        for (int b = 0; b < batch; b++) {
            double[][] q = linear(xd[b], wq);
            double[][] k = linear(xd[b], wk);
            double[][] v = linear(xd[b], wv);
            double[][] o = new double[n][c.heads() * d];
            attendInterleaved(c.heads(), c.kvHeads(), d, c.headMapping(), c.imageAttention(), modality, b, q, k, v,
                    scale, c.qkNorm(), o);
            out[b] = linear(o, wo);
            for (int i = 0; i < n; i++) {
                if (modality.get(b, i) == Modality.PADDING) {
                    out[b][i] = new double[out[b][i].length];
                }
            }
        }
        return out;
    }

    /** The interleaved attention alone ({@code Backend.attention(InterleavedProblem, ...)}) in float64. */
    public static double[][][] interleavedAttention(dev.mmca.backend.InterleavedProblem p, FloatTensor q,
            FloatTensor k, FloatTensor v) {
        double[][][] qd = toDouble(q);
        double[][][] kd = toDouble(k);
        double[][][] vd = toDouble(v);
        double[][][] out = new double[p.batch()][p.tokens()][p.heads() * p.dimHead()];
        for (int b = 0; b < p.batch(); b++) {
            attendInterleaved(p.heads(), p.kvHeads(), p.dimHead(), p.headMapping(), p.imageAttention(), p.modality(), b,
                    qd[b], kd[b], vd[b], p.scale(), p.qkNorm(), out[b]);
        }
        return out;
    }

    /** The two groups of every real query of batch element b (SPEC "Interleaved MMCA"), added into {@code o}. */
    private static void attendInterleaved(int heads, int kvHeads, int d, HeadMapping mapping, ImageAttention rule,
            Modality modality, int b, double[][] q, double[][] k, double[][] v, double scale, boolean qkNorm,
            double[][] o) {
        int n = modality.length();
        for (int i = 0; i < n; i++) {
            byte kind = modality.get(b, i);
            if (kind == Modality.PADDING) {
                continue;
            }
            boolean[] text = new boolean[n];
            boolean[] image = new boolean[n];
            for (int j = 0; j < n; j++) {
                byte t = modality.get(b, j);
                if (kind == Modality.TEXT) {
                    text[j] = j <= i && t == Modality.TEXT;
                    image[j] = j <= i && t == Modality.IMAGE;
                } else if (rule == ImageAttention.SELF) {
                    text[j] = j <= i && t == Modality.TEXT;
                    image[j] = j == i;
                } else {
                    // BLOCK: the image holding i, the image tokens with no text token between them and i
                    boolean textBetween = false;
                    for (int x = Math.min(i, j) + 1; x < Math.max(i, j); x++) {
                        textBetween |= modality.get(b, x) == Modality.TEXT;
                    }
                    image[j] = t == Modality.IMAGE && !textBetween;
                }
            }
            for (int h = 0; h < heads; h++) {
                int g = mapping.kvHeadOf(h, heads, kvHeads);
                attendQuery(q[i], h, g, d, k, v, text, scale, qkNorm, o[i]);
                attendQuery(q[i], h, g, d, k, v, image, scale, qkNorm, o[i]);
            }
        }
    }

    /** {@code y = x * W^T} for {@code x [rows, in]}, {@code W [out, in]}. */
    static double[][] linear(double[][] x, double[][] w) {
        double[][] y = new double[x.length][w.length];
        for (int r = 0; r < x.length; r++) {
            for (int o = 0; o < w.length; o++) {
                double s = 0;
                for (int i = 0; i < w[o].length; i++) {
                    s += x[r][i] * w[o][i];
                }
                y[r][o] = s;
            }
        }
        return y;
    }

    static double[] l2normalize(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        // F.normalize semantics: divide by max(norm, 1e-12)
        double n = Math.max(Math.sqrt(s), 1e-12);
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = a[i] / n;
        }
        return r;
    }

    static double[] slice(double[] a, int from, int len) {
        double[] r = new double[len];
        System.arraycopy(a, from, r, 0, len);
        return r;
    }

    static double[][][] add(double[][][] a, double[][][] b) {
        double[][][] r = new double[a.length][a[0].length][a[0][0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                for (int k = 0; k < a[i][j].length; k++) {
                    r[i][j][k] = a[i][j][k] + b[i][j][k];
                }
            }
        }
        return r;
    }

    /** A rank-3 tensor {@code [B, N, C]} as float64 arrays. */
    public static double[][][] toDouble(FloatTensor t) {
        int b = t.dim(0);
        int n = t.dim(1);
        int d = t.dim(2);
        double[][][] r = new double[b][n][d];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < d; k++) {
                    r[i][j][k] = t.get((i * n + j) * d + k);
                }
            }
        }
        return r;
    }

    static double[][] toDouble2(FloatTensor t) {
        int r = t.dim(0);
        int c = t.dim(1);
        double[][] a = new double[r][c];
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < c; j++) {
                a[i][j] = t.get(i * c + j);
            }
        }
        return a;
    }

    /** A mask {@code [b, n]} as {@code boolean[b][n]}; null stays null (every token real). */
    public static boolean[][] toBool(Mask m, int b, int n) {
        if (m == null) {
            return null;
        }
        boolean[][] r = new boolean[b][n];
        for (int i = 0; i < b; i++) {
            for (int j = 0; j < n; j++) {
                r[i][j] = m.get(i, j);
            }
        }
        return r;
    }

    /**
     * {@code ||out - ref|| / ||ref||} (or {@code ||out||} when ref is all zero); a NaN or infinity in {@code out}
     * gives +Inf. The same number as {@link Comparison#relativeError()}.
     */
    public static double relativeError(FloatTensor out, double[][][] ref) {
        return Comparison.of(out, ref).relativeError();
    }
}
