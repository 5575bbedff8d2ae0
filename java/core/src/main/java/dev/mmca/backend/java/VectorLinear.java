package dev.mmca.backend.java;

import dev.mmca.plan.PackedWeight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A projection {@code y = x W^T} on the Vector API: {@code W} ({@code [out, in]}) is packed once into panels of
 * {@link #NR} output columns ({@code panel[k][c] = W[p * NR + c][k]}, zero past {@code out}), and a micro-kernel
 * keeps a {@link #MR} x {@link #NR} block of {@code y} in registers while it streams one panel and broadcasts
 * the rows' inputs:
 * <pre>
 *   for k:  b = panel[k][0 .. NR)          (two vectors)
 *           y[r][0 .. NR) += x[r][k] * b    for the MR rows (fused multiply-adds)
 * </pre>
 * Summation order: every {@code y[r, c]} is one chain of fused multiply-adds over {@code k = 0, 1, ..., in - 1}
 * starting from 0, whichever task computes it and whether its block is a full one or an edge computed in scratch;
 * the blocking only decides when the partial sum is stored and reloaded, which is exact. So the bits depend on
 * neither the thread count nor the position of a row.
 */
final class VectorLinear implements JavaKernels.Projection {
    private static final VectorSpecies<Float> S = VectorKernels.SPECIES;
    private static final int L = S.length();
    /** Output columns per panel: two vectors. */
    static final int NR = 2 * L;
    /**
     * Rows per micro-kernel: 5 x 2 accumulators and 2 weight vectors leave 4 of the 16 AVX2 vector registers for the
     * broadcast inputs, which C2 loads ahead of their use (with 6 rows, C2 on Java 25 spills an accumulator).
     */
    static final int MR = 5;
    /**
     * Floats per k of a packed row group (MR used): a power of two, so that the input index {@code xi + k * XP + r}
     * stays a scaled loop index and C2 hoists its range checks out of the kernel's loop.
     */
    static final int XP = 8;
    /** Inputs per pass: one panel's slice ({@code KC * NR} floats, 16 KiB at 256 bits) stays in L1 across a task's rows. */
    static final int KC = 256;
    /**
     * Rows per task: each task streams every panel of its column range past its rows' packed inputs, so more rows per
     * task means fewer passes over the weights.
     */
    static final int MC = 16 * MR;
    /**
     * Tasks a call is split into at least (when it has the columns): few rows are split by columns too. A constant,
     * not the thread count; the split never changes the bits (see the summation order above).
     */
    static final int MIN_TASKS = 32;
    /**
     * Most floats of a call's shared packed inputs ({@code [row group][k][XP]}, 8/5 of the inputs): 16 MiB. Above it
     * each task packs its own rows pass by pass.
     */
    static final long SHARED_PACK_LIMIT = 1 << 22;
    /**
     * The calling thread's buffer for shared packed inputs, kept between calls up to {@link #KEPT_PACK_FLOATS} (4 MiB)
     * so that small calls, W1's projections among them, do not allocate and zero a fresh one each; every float a
     * call reads is written by its {@link #pack} first, so what a previous call left there never matters.
     */
    private static final ThreadLocal<float[]> KEPT_PACK = new ThreadLocal<>();
    static final int KEPT_PACK_FLOATS = 1 << 20;

    private final int in;
    private final int out;
    private final int panels;
    /** Panel p at {@code p * in * NR}, then {@code [k][c]}. */
    private final float[] packed;

    private VectorLinear(int in, int out, int panels, float[] packed) {
        this.in = in;
        this.out = out;
        this.panels = panels;
        this.packed = packed;
    }

    static VectorLinear of(PackedWeight w) {
        int in = w.in();
        int out = w.out();
        int panels = (out + NR - 1) / NR;
        long size = (long) panels * in * NR;
        if (size > JavaMachine.MAX_ELEMENTS) {
            throw new IllegalArgumentException(w.name() + ": [" + out + ", " + in + "] packed in panels of " + NR
                    + " columns needs " + size + " elements; the java backend holds at most " + JavaMachine.MAX_ELEMENTS);
        }
        float[] src = w.data();
        float[] packed = new float[(int) size];
        for (int o = 0; o < out; o++) {
            int base = (o / NR) * in * NR + o % NR;
            int row = o * in;
            for (int k = 0; k < in; k++) {
                packed[base + k * NR] = src[row + k];
            }
        }
        return new VectorLinear(in, out, panels, packed);
    }

    @Override
    public int in() {
        return in;
    }

    @Override
    public int out() {
        return out;
    }

    @Override
    public long apply(float[] x, int xOffset, int rows, float[] y, int yOffset) {
        if (rows <= FEW_ROWS) {
            return fewRows(x, xOffset, rows, y, yOffset);
        }
        int rowBlocks = (rows + MC - 1) / MC;
        // the fewest column blocks that make MIN_TASKS tasks
        int colBlocks = Math.min(panels, Math.max(1, (MIN_TASKS + rowBlocks - 1) / rowBlocks));
        int panelsPerTask = (panels + colBlocks - 1) / colBlocks;
        // Split by columns, every column block of a row block would pack the same inputs (W1's projections: 320
        // rows in 8 column blocks, each input packed 8 times): they are packed once for the whole call instead,
        // when the copy of every input is small enough.
        int groups = (rows + MR - 1) / MR;
        long sharedSize = (long) groups * in * XP;
        float[] shared = colBlocks > 1 && sharedSize <= SHARED_PACK_LIMIT ? sharedPack((int) sharedSize) : null;
        if (shared != null) {
            Parallel.forEach(rowBlocks, rb -> {
                int r0 = rb * MC;
                pack(x, xOffset, r0, Math.min(rows, r0 + MC), 0, in, shared, r0 / MR * in * XP, in * XP);
            });
        }
        FirstIndex bad = new FirstIndex();
        Parallel.forEach(rowBlocks * colBlocks, task -> {
            int r0 = task / colBlocks * MC;
            int r1 = Math.min(rows, r0 + MC);
            int p0 = Math.min(panels, task % colBlocks * panelsPerTask);
            int p1 = Math.min(panels, p0 + panelsPerTask);
            block(x, xOffset, shared, y, yOffset, r0, r1, p0, p1);
            bad.report(firstNonFinite(y, yOffset, r0, r1, p0 * NR, Math.min(out, p1 * NR)));
        });
        return bad.get();
    }

    /**
     * A call of at most this many rows (a decoding step's projections) takes {@link #fewRows}: its time is the read
     * of the weights, which the row-group kernel streams one panel at a time, {@link #MR} rows wide.
     */
    static final int FEW_ROWS = 4;
    /** Panels per task of {@link #fewRows}: whole groups of four. */
    private static final int FEW_ROWS_PANELS = 4;

    /**
     * {@code y = x W^T} for at most {@link #FEW_ROWS} rows: each task streams a run of panels, four (one row) or two
     * (a pair of rows) at a time, so that several weight streams are in flight, reading the rows' inputs in place.
     * Each output is the same chain of fused multiply-adds over {@code k = 0 .. in - 1} as in {@link #kernel}, so
     * the bits are those of the row-group path.
     */
    private long fewRows(float[] x, int xOffset, int rows, float[] y, int yOffset) {
        // panels per task: enough for MIN_TASKS tasks, in whole groups of FEW_ROWS_PANELS
        int groups = (panels + MIN_TASKS * FEW_ROWS_PANELS - 1) / (MIN_TASKS * FEW_ROWS_PANELS);
        int per = Math.max(1, groups) * FEW_ROWS_PANELS;
        FirstIndex bad = new FirstIndex();
        Parallel.forEach((panels + per - 1) / per, task -> {
            int p0 = task * per;
            int p1 = Math.min(panels, p0 + per);
            float[] edge = new float[NR * FEW_ROWS_PANELS];
            int r = 0;
            for (; r + 2 <= rows; r += 2) {
                int xa = xOffset + r * in;
                int p = p0;
                for (; p + 2 <= p1; p += 2) {
                    rows2Panels2(x, xa, xa + in, packed, p * in * NR, (p + 1) * in * NR, in, edge);
                    for (int c = 0; c < 4; c++) {
                        store(edge, c * NR, y, yOffset + (r + c / 2) * out, p + c % 2);
                    }
                }
                for (; p < p1; p++) {
                    rows2Panels1(x, xa, xa + in, packed, p * in * NR, in, edge);
                    store(edge, 0, y, yOffset + r * out, p);
                    store(edge, NR, y, yOffset + (r + 1) * out, p);
                }
            }
            for (; r < rows; r++) {
                int xa = xOffset + r * in;
                int p = p0;
                for (; p + 4 <= p1; p += 4) {
                    rows1Panels4(x, xa, packed, p * in * NR, in, edge);
                    for (int c = 0; c < 4; c++) {
                        store(edge, c * NR, y, yOffset + r * out, p + c);
                    }
                }
                for (; p < p1; p++) {
                    rows1Panels1(x, xa, packed, p * in * NR, in, edge);
                    store(edge, 0, y, yOffset + r * out, p);
                }
            }
            bad.report(firstNonFinite(y, yOffset, 0, rows, p0 * NR, Math.min(out, p1 * NR)));
        });
        return bad.get();
    }

    /** The {@link #NR} sums of panel p in {@code sums[at ..]} into a row of y at {@code row}, the real columns only. */
    private void store(float[] sums, int at, float[] y, int row, int p) {
        System.arraycopy(sums, at, y, row + p * NR, Math.min(NR, out - p * NR));
    }

    /** One row times four panels (at {@code w0 + i * in * NR}), all of k in one pass: sums into {@code sums[0, 4 NR)}. */
    private static void rows1Panels4(float[] x, int xa, float[] w, int w0, int in, float[] sums) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector a20 = a00;
        FloatVector a21 = a00;
        FloatVector a30 = a00;
        FloatVector a31 = a00;
        int w1 = w0 + in * NR;
        int w2 = w1 + in * NR;
        int w3 = w2 + in * NR;
        for (int k = 0; k < in; k++) {
            FloatVector v = FloatVector.broadcast(S, x[xa + k]);
            int o = k * NR;
            a00 = v.fma(FloatVector.fromArray(S, w, w0 + o), a00);
            a01 = v.fma(FloatVector.fromArray(S, w, w0 + o + L), a01);
            a10 = v.fma(FloatVector.fromArray(S, w, w1 + o), a10);
            a11 = v.fma(FloatVector.fromArray(S, w, w1 + o + L), a11);
            a20 = v.fma(FloatVector.fromArray(S, w, w2 + o), a20);
            a21 = v.fma(FloatVector.fromArray(S, w, w2 + o + L), a21);
            a30 = v.fma(FloatVector.fromArray(S, w, w3 + o), a30);
            a31 = v.fma(FloatVector.fromArray(S, w, w3 + o + L), a31);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        a10.intoArray(sums, NR);
        a11.intoArray(sums, NR + L);
        a20.intoArray(sums, 2 * NR);
        a21.intoArray(sums, 2 * NR + L);
        a30.intoArray(sums, 3 * NR);
        a31.intoArray(sums, 3 * NR + L);
    }

    /** One row times one panel: sums into {@code sums[0, NR)}. */
    private static void rows1Panels1(float[] x, int xa, float[] w, int w0, int in, float[] sums) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = a00;
        for (int k = 0; k < in; k++) {
            FloatVector v = FloatVector.broadcast(S, x[xa + k]);
            int o = w0 + k * NR;
            a00 = v.fma(FloatVector.fromArray(S, w, o), a00);
            a01 = v.fma(FloatVector.fromArray(S, w, o + L), a01);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
    }

    /**
     * Two rows (inputs at {@code xa}, {@code xb}) times two panels (at {@code wa}, {@code wb}): sums into
     * {@code sums}, row-major by row then panel ({@code [row][panel][NR]}).
     */
    private static void rows2Panels2(float[] x, int xa, int xb, float[] w, int wa, int wb, int in, float[] sums) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = a00;
        FloatVector a10 = a00;
        FloatVector a11 = a00;
        FloatVector b00 = a00;
        FloatVector b01 = a00;
        FloatVector b10 = a00;
        FloatVector b11 = a00;
        for (int k = 0; k < in; k++) {
            int o = k * NR;
            FloatVector p0 = FloatVector.fromArray(S, w, wa + o);
            FloatVector p1 = FloatVector.fromArray(S, w, wa + o + L);
            FloatVector q0 = FloatVector.fromArray(S, w, wb + o);
            FloatVector q1 = FloatVector.fromArray(S, w, wb + o + L);
            FloatVector u = FloatVector.broadcast(S, x[xa + k]);
            a00 = u.fma(p0, a00);
            a01 = u.fma(p1, a01);
            a10 = u.fma(q0, a10);
            a11 = u.fma(q1, a11);
            FloatVector v = FloatVector.broadcast(S, x[xb + k]);
            b00 = v.fma(p0, b00);
            b01 = v.fma(p1, b01);
            b10 = v.fma(q0, b10);
            b11 = v.fma(q1, b11);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        a10.intoArray(sums, NR);
        a11.intoArray(sums, NR + L);
        b00.intoArray(sums, 2 * NR);
        b01.intoArray(sums, 2 * NR + L);
        b10.intoArray(sums, 3 * NR);
        b11.intoArray(sums, 3 * NR + L);
    }

    /** Two rows times one panel: the first row's sums into {@code sums[0, NR)}, the second's into {@code [NR, 2 NR)}. */
    private static void rows2Panels1(float[] x, int xa, int xb, float[] w, int w0, int in, float[] sums) {
        FloatVector a00 = FloatVector.zero(S);
        FloatVector a01 = a00;
        FloatVector b00 = a00;
        FloatVector b01 = a00;
        for (int k = 0; k < in; k++) {
            int o = w0 + k * NR;
            FloatVector p0 = FloatVector.fromArray(S, w, o);
            FloatVector p1 = FloatVector.fromArray(S, w, o + L);
            FloatVector u = FloatVector.broadcast(S, x[xa + k]);
            a00 = u.fma(p0, a00);
            a01 = u.fma(p1, a01);
            FloatVector v = FloatVector.broadcast(S, x[xb + k]);
            b00 = v.fma(p0, b00);
            b01 = v.fma(p1, b01);
        }
        a00.intoArray(sums, 0);
        a01.intoArray(sums, L);
        b00.intoArray(sums, NR);
        b01.intoArray(sums, NR + L);
    }

    /** A buffer of at least {@code size} floats for a call's shared packed inputs, its contents arbitrary. */
    private static float[] sharedPack(int size) {
        if (size > KEPT_PACK_FLOATS) {
            return new float[size];
        }
        float[] kept = KEPT_PACK.get();
        if (kept == null || kept.length < size) {
            kept = new float[size];
            KEPT_PACK.set(kept);
        }
        return kept;
    }

    /**
     * {@code r * out + c} of the first output of rows {@code [r0, r1)}, columns {@code [c0, c1)} that is not finite,
     * or -1: one pass over the block's outputs after its sums are complete, a small cost beside the {@code in}
     * multiply-adds each output took.
     */
    private long firstNonFinite(float[] y, int yOffset, int r0, int r1, int c0, int c1) {
        for (int r = r0; r < r1; r++) {
            int yi = yOffset + r * out;
            for (int c = c0; c < c1; c++) {
                if (!(Math.abs(y[yi + c]) <= Float.MAX_VALUE)) {
                    return (long) r * out + c;
                }
            }
        }
        return -1;
    }

    /**
     * Rows {@code [r0, r1)} times panels {@code [p0, p1)}, in passes of {@link #KC} inputs. The kernel reads one input
     * of each of its rows from consecutive addresses off one index: from {@code shared} when the call packed its
     * inputs ({@code [row group][k][XP]} over all inputs), else each pass first copies the rows' inputs of the pass
     * into {@code [row group][k][XP]}.
     */
    private void block(float[] x, int xOffset, float[] shared, float[] y, int yOffset, int r0, int r1, int p0,
            int p1) {
        int groups = (r1 - r0 + MR - 1) / MR;
        float[] xp = shared != null ? shared : new float[groups * XP * Math.min(KC, in)];
        float[] edge = null;
        for (int k0 = 0; k0 < in; k0 += KC) {
            int kn = Math.min(KC, in - k0);
            boolean load = k0 > 0;
            // row group rg of the block at xBase + rg * xGroup
            int xBase;
            int xGroup;
            if (shared != null) {
                xBase = (r0 / MR * in + k0) * XP;
                xGroup = in * XP;
            } else {
                pack(x, xOffset, r0, r1, k0, kn, xp, 0, kn * XP);
                xBase = 0;
                xGroup = kn * XP;
            }
            for (int p = p0; p < p1; p++) {
                int col = p * NR;
                int w = (p * in + k0) * NR;
                int width = Math.min(NR, out - col);
                for (int rg = 0; rg < groups; rg++) {
                    int row = r0 + rg * MR;
                    int height = Math.min(MR, r1 - row);
                    int yi = yOffset + row * out + col;
                    int xi = xBase + rg * xGroup;
                    if (height == MR && width == NR) {
                        kernel(xp, xi, packed, w, kn, y, yi, out, load);
                        continue;
                    }
                    // rows past r1 or columns past out: compute in a scratch block, keep the real part
                    if (edge == null) {
                        edge = new float[MR * NR];
                    }
                    for (int r = 0; r < height; r++) {
                        if (load) {
                            System.arraycopy(y, yi + r * out, edge, r * NR, width);
                        }
                    }
                    kernel(xp, xi, packed, w, kn, edge, 0, NR, load);
                    for (int r = 0; r < height; r++) {
                        System.arraycopy(edge, r * NR, y, yi + r * out, width);
                    }
                }
            }
        }
    }

    /**
     * Inputs {@code [k0, k0 + kn)} of rows {@code [r0, r1)} into groups of {@link #MR} rows, group g's input k of its
     * row r at {@code xp[base + g * groupStride + k * XP + r]}; the rows of the last group past r1 are zero.
     */
    private void pack(float[] x, int xOffset, int r0, int r1, int k0, int kn, float[] xp, int base, int groupStride) {
        int groups = (r1 - r0 + MR - 1) / MR;
        for (int rg = 0; rg < groups; rg++) {
            for (int r = 0; r < MR; r++) {
                int row = r0 + rg * MR + r;
                int dst = base + rg * groupStride + r;
                if (row >= r1) {
                    for (int k = 0; k < kn; k++) {
                        xp[dst + k * XP] = 0f;
                    }
                    continue;
                }
                int src = xOffset + row * in + k0;
                for (int k = 0; k < kn; k++) {
                    xp[dst + k * XP] = x[src + k];
                }
            }
        }
    }

    /**
     * {@code c[r][0 .. NR) (+)= sum_k xp[k][r] panel[k]} for the MR rows of one group: inputs at
     * {@code xp[xi + k * XP + r]}, weights at {@code w[wi + k * NR ..]}, c row r at {@code ci + r * cs}; {@code load}:
     * continue the sums already in c, else start from 0.
     */
    private static void kernel(float[] xp, int xi, float[] w, int wi, int kn, float[] c, int ci, int cs,
            boolean load) {
        FloatVector z = FloatVector.zero(S);
        int c0 = ci;
        int c1 = c0 + cs;
        int c2 = c1 + cs;
        int c3 = c2 + cs;
        int c4 = c3 + cs;
        FloatVector a00 = load ? FloatVector.fromArray(S, c, c0) : z;
        FloatVector a01 = load ? FloatVector.fromArray(S, c, c0 + L) : z;
        FloatVector a10 = load ? FloatVector.fromArray(S, c, c1) : z;
        FloatVector a11 = load ? FloatVector.fromArray(S, c, c1 + L) : z;
        FloatVector a20 = load ? FloatVector.fromArray(S, c, c2) : z;
        FloatVector a21 = load ? FloatVector.fromArray(S, c, c2 + L) : z;
        FloatVector a30 = load ? FloatVector.fromArray(S, c, c3) : z;
        FloatVector a31 = load ? FloatVector.fromArray(S, c, c3 + L) : z;
        FloatVector a40 = load ? FloatVector.fromArray(S, c, c4) : z;
        FloatVector a41 = load ? FloatVector.fromArray(S, c, c4 + L) : z;
        for (int k = 0; k < kn; k++) {
            // indices linear in k with constant factors, so C2 hoists their range checks out of the loop
            FloatVector b0 = FloatVector.fromArray(S, w, wi + k * NR);
            FloatVector b1 = FloatVector.fromArray(S, w, wi + k * NR + L);
            int xk = xi + k * XP;
            FloatVector v = FloatVector.broadcast(S, xp[xk]);
            a00 = v.fma(b0, a00);
            a01 = v.fma(b1, a01);
            v = FloatVector.broadcast(S, xp[xk + 1]);
            a10 = v.fma(b0, a10);
            a11 = v.fma(b1, a11);
            v = FloatVector.broadcast(S, xp[xk + 2]);
            a20 = v.fma(b0, a20);
            a21 = v.fma(b1, a21);
            v = FloatVector.broadcast(S, xp[xk + 3]);
            a30 = v.fma(b0, a30);
            a31 = v.fma(b1, a31);
            v = FloatVector.broadcast(S, xp[xk + 4]);
            a40 = v.fma(b0, a40);
            a41 = v.fma(b1, a41);
        }
        a00.intoArray(c, c0);
        a01.intoArray(c, c0 + L);
        a10.intoArray(c, c1);
        a11.intoArray(c, c1 + L);
        a20.intoArray(c, c2);
        a21.intoArray(c, c2 + L);
        a30.intoArray(c, c3);
        a31.intoArray(c, c3 + L);
        a40.intoArray(c, c4);
        a41.intoArray(c, c4 + L);
    }
}
