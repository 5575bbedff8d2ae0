package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.testing.RandomInputs;
import dev.mmca.testing.Reference64;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GPU model's plan (weight packing, buffer offsets, strides, masks, composition) run on a host
 * interpreter of the same calls: GEMMs and attention descriptors are executed in double precision on
 * a NaN-filled host arena addressed like device memory. Matching the float64 oracle shows the plan
 * is right independently of the kernels; runs without a GPU.
 */
class ForwardPlanTest {
    /** Device-like memory: element addresses {@code BASE + index * elem}; byte masks in their own range. */
    static final class Arena {
        static final long BASE = 1L << 40;
        static final long MASK_BASE = 1L << 42;
        final int elem;
        float[] values = new float[0];
        int used;
        byte[] masks = new byte[0];
        int masksUsed;
        final List<String> calls = new ArrayList<>();

        Arena(int elem) {
            this.elem = elem;
        }

        /** {@code count} NaN elements; returns their address (64-element aligned, like cudaMalloc's 256 bytes). */
        long allocate(long count) {
            int start = (used + 63) / 64 * 64;
            int end = start + (int) count;
            if (end > values.length) {
                int old = values.length;
                values = Arrays.copyOf(values, Math.max(end, 2 * old));
                Arrays.fill(values, old, values.length, Float.NaN);
            }
            used = end;
            return BASE + (long) start * elem;
        }

        long put(FloatTensor t) {
            long a = allocate(t.size());
            t.copyTo(values, index(a));
            return a;
        }

        long put(Mask m) {
            if (m == null) {
                return 0;
            }
            byte[] b = m.bytesView();
            int start = masksUsed;
            masks = Arrays.copyOf(masks, start + b.length);
            System.arraycopy(b, 0, masks, start, b.length);
            masksUsed += b.length;
            return MASK_BASE + start;
        }

        int index(long address) {
            long off = address - BASE;
            if (off < 0 || off % elem != 0 || off / elem >= used) {
                throw new AssertionError("address " + Long.toHexString(address) + " is not an element of the arena");
            }
            return (int) (off / elem);
        }

        boolean maskAt(long address, long offset) {
            return masks[(int) (address - MASK_BASE + offset)] != 0;
        }

        float[] read(long address, int count) {
            int i = index(address);
            return Arrays.copyOfRange(values, i, i + count);
        }
    }

    /** Executes plan calls on the arena in double precision. */
    static final class HostOps implements ForwardPlan.Ops {
        final Arena m;

        HostOps(Arena m) {
            this.m = m;
        }

        @Override
        public void linear(CudaDtype dtype, long x, int ldx, long w, long y, int ldy, int rows, int in, int out) {
            m.calls.add("linear " + rows + "x" + in + "->" + out);
            int xi = m.index(x);
            int wi = m.index(w);
            int yi = m.index(y);
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double s = 0;
                    for (int i = 0; i < in; i++) {
                        s += (double) m.values[xi + r * ldx + i] * m.values[wi + o * in + i];
                    }
                    m.values[yi + r * ldy + o] = (float) s;
                }
            }
        }

        @Override
        public void attention(long[] d, int math, long stream) {
            m.calls.add("attention");
            run(d);
        }

        @Override
        public void text(long[] selfDesc, long[] crossDesc, int math, long stream) {
            m.calls.add("text");
            assertEquals(selfDesc[AttentionDescriptor.QUERIES], crossDesc[AttentionDescriptor.QUERIES], "queries");
            run(selfDesc);
            run(crossDesc);
        }

        @Override
        public void add(long out, long a, long b, long n, int dtype, long stream) {
            m.calls.add("add");
            int o = m.index(out);
            int ai = m.index(a);
            int bi = m.index(b);
            for (int i = 0; i < n; i++) {
                m.values[o + i] = m.values[ai + i] + m.values[bi + i];
            }
        }

        /** SPEC steps 2-5 over the descriptor's strided views, writing exactly the rows the kernels write. */
        private void run(long[] d) {
            int batch = (int) d[AttentionDescriptor.BATCH];
            int heads = (int) d[AttentionDescriptor.HEADS];
            int kvHeads = (int) d[AttentionDescriptor.KV_HEADS];
            int n = (int) d[AttentionDescriptor.QUERIES];
            int keys = (int) d[AttentionDescriptor.KEYS];
            int dh = (int) d[AttentionDescriptor.DIM_HEAD];
            double scale = Float.intBitsToFloat((int) d[AttentionDescriptor.SCALE_BITS]);
            boolean causal = d[AttentionDescriptor.CAUSAL] != 0;
            boolean qkNorm = d[AttentionDescriptor.QK_NORM] != 0;
            boolean grouped = d[AttentionDescriptor.HEAD_MAPPING] == 1;
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    int g = grouped ? h / (heads / kvHeads) : h % kvHeads;
                    for (int i = 0; i < n; i++) {
                        double[] o = new double[dh];
                        boolean active = d[AttentionDescriptor.QUERY_MASK] == 0 || m.maskAt(
                                d[AttentionDescriptor.QUERY_MASK], (long) b * d[AttentionDescriptor.QUERY_MASK_BATCH_STRIDE] + i);
                        if (active) {
                            double[] q = vec(d, AttentionDescriptor.Q, AttentionDescriptor.Q_STRIDES, b, i, h, dh, qkNorm);
                            double[] logit = new double[keys];
                            boolean[] vis = new boolean[keys];
                            double max = Double.NEGATIVE_INFINITY;
                            for (int j = 0; j < keys; j++) {
                                vis[j] = (d[AttentionDescriptor.KEY_MASK] == 0 || m.maskAt(d[AttentionDescriptor.KEY_MASK],
                                        (long) b * d[AttentionDescriptor.KEY_MASK_BATCH_STRIDE] + j))
                                        && (!causal || j <= i + (keys - n));
                                if (vis[j]) {
                                    double[] k = vec(d, AttentionDescriptor.K, AttentionDescriptor.K_STRIDES, b, j, g, dh,
                                            qkNorm);
                                    double s = 0;
                                    for (int e = 0; e < dh; e++) {
                                        s += q[e] * k[e];
                                    }
                                    logit[j] = scale * s;
                                    max = Math.max(max, logit[j]);
                                }
                            }
                            if (max != Double.NEGATIVE_INFINITY) {
                                double sum = 0;
                                for (int j = 0; j < keys; j++) {
                                    sum += vis[j] ? Math.exp(logit[j] - max) : 0;
                                }
                                for (int j = 0; j < keys; j++) {
                                    if (vis[j]) {
                                        double p = Math.exp(logit[j] - max) / sum;
                                        double[] v = vec(d, AttentionDescriptor.V, AttentionDescriptor.V_STRIDES, b, j, g,
                                                dh, false);
                                        for (int e = 0; e < dh; e++) {
                                            o[e] += p * v[e];
                                        }
                                    }
                                }
                            }
                        }
                        int oi = m.index(d[AttentionDescriptor.O]) + (int) (b * d[AttentionDescriptor.O_STRIDES]
                                + i * d[AttentionDescriptor.O_STRIDES + 1] + h * d[AttentionDescriptor.O_STRIDES + 2]);
                        for (int e = 0; e < dh; e++) {
                            m.values[oi + e] = (float) o[e];
                        }
                    }
                }
            }
        }

        private double[] vec(long[] d, int ptr, int strides, int b, int row, int head, int dh, boolean normalise) {
            int base = m.index(d[ptr]) + (int) (b * d[strides] + row * d[strides + 1] + head * d[strides + 2]);
            double[] v = new double[dh];
            double ss = 0;
            for (int e = 0; e < dh; e++) {
                v[e] = m.values[base + e];
                ss += v[e] * v[e];
            }
            if (normalise) {
                double inv = 1 / Math.max(Math.sqrt(ss), 1e-12);
                for (int e = 0; e < dh; e++) {
                    v[e] *= inv;
                }
            }
            return v;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (CudaPrecision p : new CudaPrecision[] {CudaPrecision.FP32, CudaPrecision.BF16}) {
            list.add(Arguments.of(p, MmcaConfig.builder().dim(24).heads(4).kvHeads(2).dimHead(32).build(), 7, 9));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(20).heads(6).kvHeads(3).dimHead(16).qkNorm(true)
                    .headMapping(HeadMapping.GROUPED).build(), 11, 5));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(16).heads(4).kvHeads(1).dimHead(8)
                    .composition(Composition.SEED).causal(true).build(), 8, 8));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(12).heads(2).dimHead(8)
                    .composition(Composition.SEED).build(), 6, 6));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1} Nv={2} Nt={3}")
    @MethodSource("cases")
    void planComputesSimpleMmca(CudaPrecision precision, MmcaConfig config, int nv, int nt) {
        int b = 2;
        MmcaWeights w = MmcaWeights.random(config, 3);
        FloatTensor v = RandomInputs.normal(4, b, nv, config.dim());
        FloatTensor t = RandomInputs.normal(5, b, nt, config.dim());
        Mask vm = RandomInputs.randomLengths(6, b, nv, 1);
        Mask tm = RandomInputs.randomLengths(7, b, nt, 1);
        Arena m = new Arena(precision.dtype().bytes());
        ForwardPlan.Buffers buf = new ForwardPlan.Buffers();
        buf.wqkvVisual = m.put(ForwardPlan.stackRows(config, w.visualSelf()));
        buf.woVisual = m.put(w.visualSelf().toOut());
        buf.wqkvText = m.put(ForwardPlan.stackRows(config, w.textualSelf()));
        buf.wqkvCross = m.put(ForwardPlan.stackRows(config, w.cross()));
        buf.woTextCross = m.put(ForwardPlan.sideBySide(config, w.textualSelf().toOut(), w.cross().toOut()));
        ForwardPlan.Sizes sizes = new ForwardPlan.Sizes(config, b, nv, nt);
        buf.qkvV = m.allocate(sizes.qkvV);
        buf.oV = m.allocate(sizes.oV);
        buf.qkvT = m.allocate(sizes.qkvT);
        buf.qkvC = m.allocate(sizes.qkvC);
        buf.kvC = sizes.kvC > 0 ? m.allocate(sizes.kvC) : 0;
        buf.u = sizes.u > 0 ? m.allocate(sizes.u) : 0;
        buf.oT = m.allocate(sizes.oT);
        long xv = m.put(v);
        long xt = m.put(t);
        long vis = m.allocate(v.size());
        long text = m.allocate(t.size());
        new ForwardPlan(config, precision).run(buf, new HostOps(m), b, nv, nt, xv, xt, m.put(vm), m.put(tm), vis, text, 0L);

        Reference64.Output ref = Reference64.simpleMmca(config, w, v, t, vm, tm);
        double ev = Reference64.relativeError(FloatTensor.of(m.read(vis, v.size()), v.shape()), ref.visual);
        double et = Reference64.relativeError(FloatTensor.of(m.read(text, t.size()), t.shape()), ref.text);
        assertTrue(ev <= 1e-6, "visual: relative error " + ev);
        assertTrue(et <= 1e-6, "text: relative error " + et);
        // one fused text launch, one attention launch, and GEMMs: 4 (CROSS: q, kv separately: 5) + 1 output
        long launches = m.calls.stream().filter(c -> c.equals("text") || c.equals("attention")).count();
        assertEquals(2, launches, m.calls.toString());
        long gemms = m.calls.stream().filter(c -> c.startsWith("linear")).count();
        assertEquals(config.composition() == Composition.CROSS ? 6 : 5, gemms, m.calls.toString());
    }
}
