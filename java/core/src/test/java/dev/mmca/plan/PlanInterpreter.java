package dev.mmca.plan;

import dev.mmca.FloatTensor;
import dev.mmca.ImageAttention;
import dev.mmca.Mask;
import dev.mmca.Modality;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Executes plan operations in double precision over one array per buffer, exactly as the plan states them
 * (operands, strides, masks, key lengths, query positions): the oracle of a plan, independent of every
 * backend's kernels and memory.
 */
/** Executes plan operations in double precision over one array per buffer. */
public final class PlanInterpreter implements Op.Visitor {
    private final List<PackedWeight> weights;
    private final Map<Buffer, double[]> memory = new IdentityHashMap<>();
    private final Map<Buffer, Mask> masks = new IdentityHashMap<>();
    private final Map<Buffer, int[]> ints = new IdentityHashMap<>();
    private final Map<Buffer, Modality> modalities = new IdentityHashMap<>();

    public PlanInterpreter(List<PackedWeight> weights) {
        this.weights = weights;
    }

    public void input(Buffer b, FloatTensor t) {
        double[] x = of(b);
        for (int i = 0; i < x.length; i++) {
            x[i] = t.get(i);
        }
    }

    public void mask(Buffer b, Mask m) {
        if (b != null) {
            masks.put(b, m);
        }
    }

    /** Binds a modality to a byte input. */
    public void modality(Buffer b, Modality m) {
        modalities.put(b, m);
    }

    /** Binds int32 values (key lengths, query positions); a null buffer is ignored. */
    public void ints(Buffer b, int[] values) {
        if (b != null) {
            ints.put(b, values);
        }
    }

    /** The values of a buffer (NaN where nothing was written). */
    public double[] of(Buffer b) {
        return memory.computeIfAbsent(b, x -> {
            double[] a = new double[(int) x.elements()];
            java.util.Arrays.fill(a, Double.NaN);  // a read before a write shows up
            return a;
        });
    }

    /** {@code ||out - ref|| / ||ref||} of an output against a float64 reference. */
    public double error(Buffer out, double[][][] ref) {
        double[] got = of(out);
        double num = 0;
        double den = 0;
        int i = 0;
        for (double[][] m : ref) {
            for (double[] row : m) {
                for (double r : row) {
                    num += (got[i] - r) * (got[i] - r);
                    den += r * r;
                    i++;
                }
            }
        }
        return Math.sqrt(num) / Math.max(Math.sqrt(den), 1e-300);
    }

    @Override
    public void linear(LinearOp op) {
        double[] x = of(op.x());
        double[] y = of(op.y());
        float[] w = weights.get(op.weight()).data();
        int in = op.in();
        int out = op.out();
        for (int r = 0; r < op.rows(); r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += x[r * in + i] * w[o * in + i];
                }
                y[r * out + o] = s;
            }
        }
    }

    @Override
    public void attention(AttentionOp op) {
        double[] q = of(op.q().buffer());
        double[] k = of(op.k().buffer());
        double[] v = of(op.v().buffer());
        double[] o = of(op.o().buffer());
        Mask km = op.keyMask() == null ? null : masks.get(op.keyMask());
        Mask qm = op.queryMask() == null ? null : masks.get(op.queryMask());
        int[] lengths = op.keyLengths() == null ? null : ints.get(op.keyLengths());
        int[] positions = op.queryPositions() == null ? null : ints.get(op.queryPositions());
        int d = op.dimHead();
        int n = op.queries();
        int m = op.keys();
        for (int b = 0; b < op.batch(); b++) {
            for (int h = 0; h < op.heads(); h++) {
                int g = op.headMapping().kvHeadOf(h, op.heads(), op.kvHeads());
                for (int i = 0; i < n; i++) {
                    double[] out = new double[d];
                    long length = lengths == null ? m : lengths[b];
                    long position = positions == null ? i + (m - n)
                            : positions[(int) (b * op.queryPositionsBatchStride() + i)];
                    if (qm == null || qm.get(b, i)) {
                        double[] qi = head(q, op.q(), b, i, h, d, op.qkNorm());
                        double[] s = new double[m];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < m; j++) {
                            boolean visible = (km == null || km.get(b, j)) && j < length
                                    && (!op.causal() || j <= position);
                            s[j] = Double.NEGATIVE_INFINITY;
                            if (visible) {
                                double[] kj = head(k, op.k(), b, j, g, d, op.qkNorm());
                                double dot = 0;
                                for (int e = 0; e < d; e++) {
                                    dot += qi[e] * kj[e];
                                }
                                s[j] = op.scale() * dot;
                                max = Math.max(max, s[j]);
                            }
                        }
                        if (max != Double.NEGATIVE_INFINITY) {
                            double sum = 0;
                            for (int j = 0; j < m; j++) {
                                sum += s[j] == Double.NEGATIVE_INFINITY ? 0 : Math.exp(s[j] - max);
                            }
                            for (int j = 0; j < m; j++) {
                                if (s[j] != Double.NEGATIVE_INFINITY) {
                                    double p = Math.exp(s[j] - max) / sum;
                                    double[] vj = head(v, op.v(), b, j, g, d, false);
                                    for (int e = 0; e < d; e++) {
                                        out[e] += p * vj[e];
                                    }
                                }
                            }
                        }
                    }
                    long at = op.o().index(b, i, h);
                    for (int e = 0; e < d; e++) {
                        o[(int) at + e] = out[e];
                    }
                }
            }
        }
    }

    private static double[] head(double[] x, AttentionOp.Operand op, int b, int row, int h, int d,
            boolean normalise) {
        long at = op.index(b, row, h);
        double[] r = new double[d];
        double ss = 0;
        for (int e = 0; e < d; e++) {
            r[e] = x[(int) at + e];
            ss += r[e] * r[e];
        }
        if (normalise) {
            double inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
            for (int e = 0; e < d; e++) {
                r[e] *= inv;
            }
        }
        return r;
    }

    @Override
    public void textAttention(TextAttentionOp op) {
        attention(op.self());
        attention(op.cross());
    }

    /**
     * SPEC "Interleaved MMCA" as the op states it: query i at key position p (given, or right-aligned), real when
     * {@code p < keyLength} and its key is not padding; its groups T and I as sets of key positions by the rules
     * (text; image self; image block: no text key between), each with its own softmax, the two sums added.
     */
    @Override
    public void interleavedAttention(InterleavedAttentionOp iop) {
        AttentionOp op = iop.attention();
        double[] q = of(op.q().buffer());
        double[] k = of(op.k().buffer());
        double[] v = of(op.v().buffer());
        double[] o = of(op.o().buffer());
        Modality mod = modalities.get(iop.modality());
        int[] lengths = op.keyLengths() == null ? null : ints.get(op.keyLengths());
        int[] positions = op.queryPositions() == null ? null : ints.get(op.queryPositions());
        int d = op.dimHead();
        int n = op.queries();
        int m = op.keys();
        boolean block = iop.imageAttention() == ImageAttention.BLOCK;
        for (int b = 0; b < op.batch(); b++) {
            int length = lengths == null ? m : Math.max(0, Math.min(m, lengths[b]));
            for (int i = 0; i < n; i++) {
                long p = positions == null ? i + (m - n) : positions[(int) (b * op.queryPositionsBatchStride() + i)];
                int kind = p >= 0 && p < length ? mod.get(b, (int) p) : Modality.PADDING;
                boolean[] inT = new boolean[m];
                boolean[] inI = new boolean[m];
                for (int j = 0; j < length && kind != Modality.PADDING; j++) {
                    int t = mod.get(b, j);
                    if (kind == Modality.TEXT) {
                        inT[j] = t == Modality.TEXT && j <= p;
                        inI[j] = t == Modality.IMAGE && j <= p;
                    } else if (!block) {
                        inT[j] = t == Modality.TEXT && j <= p;
                        inI[j] = j == p;
                    } else if (t == Modality.IMAGE) {
                        boolean textBetween = false;
                        for (long x = Math.min(j, p) + 1; x < Math.max(j, p); x++) {
                            textBetween |= mod.get(b, (int) x) == Modality.TEXT;
                        }
                        inI[j] = !textBetween;
                    }
                }
                for (int h = 0; h < op.heads(); h++) {
                    int g = op.headMapping().kvHeadOf(h, op.heads(), op.kvHeads());
                    double[] out = new double[d];
                    if (kind != Modality.PADDING) {
                        double[] qi = head(q, op.q(), b, i, h, d, op.qkNorm());
                        for (boolean[] group : new boolean[][] {inT, inI}) {
                            double[] s = new double[m];
                            double max = Double.NEGATIVE_INFINITY;
                            for (int j = 0; j < m; j++) {
                                if (group[j]) {
                                    double[] kj = head(k, op.k(), b, j, g, d, op.qkNorm());
                                    double dot = 0;
                                    for (int e = 0; e < d; e++) {
                                        dot += qi[e] * kj[e];
                                    }
                                    s[j] = op.scale() * dot;
                                    max = Math.max(max, s[j]);
                                }
                            }
                            double sum = 0;
                            for (int j = 0; j < m; j++) {
                                sum += group[j] ? Math.exp(s[j] - max) : 0;
                            }
                            for (int j = 0; j < m; j++) {
                                if (group[j]) {
                                    double w = Math.exp(s[j] - max) / sum;
                                    double[] vj = head(v, op.v(), b, j, g, d, false);
                                    for (int e = 0; e < d; e++) {
                                        out[e] += w * vj[e];
                                    }
                                }
                            }
                        }
                    }
                    long at = op.o().index(b, i, h);
                    for (int e = 0; e < d; e++) {
                        o[(int) at + e] = out[e];
                    }
                }
            }
        }
    }

    @Override
    public void scatterRows(ScatterRowsOp op) {
        double[] src = of(op.src());
        double[] dst = of(op.dst());
        int[] rows = ints.get(op.rows());
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] >= 0) {
                for (int c = 0; c < op.width(); c++) {
                    dst[rows[r] * op.dst().width() + op.dstColumn() + c] = src[r * op.src().width() + op.srcColumn() + c];
                }
            }
        }
    }

    @Override
    public void add(AddOp op) {
        double[] a = of(op.a());
        double[] b = of(op.b());
        double[] out = of(op.out());
        for (int i = 0; i < out.length; i++) {
            out[i] = a[i] + b[i];
        }
    }
}
