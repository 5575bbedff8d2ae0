package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mmca.FloatTensor;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.InterleavedParamsLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A stand-in GPU on the host, for testing {@link CudaMachine} without one: "device memory" is addressed
 * like a device (byte addresses from {@code BASE}, allocations NaN-filled); an element of any type is kept
 * as a float in slot {@code (address - BASE) / 2} (so elements of different types never share a slot), and
 * bytes (masks) in a byte array at their offset. Projections and attention run in double precision,
 * attention straight from the parameter block the machine wrote (decoded at the offsets of
 * {@link AttentionParamsLayout}). Element types only change the address arithmetic.
 */
final class HostDevice implements CudaDevice {
    static final long BASE = 1L << 40;
    private final int elem;
    private float[] values = new float[0];
    private int used;
    private byte[] bytes = new byte[0];
    final List<String> calls = new ArrayList<>();

    HostDevice(CudaDtype dtype) {
        this.elem = dtype.bytes();
    }

    /** Live allocations (allocated minus freed), for leak checks. */
    int liveAllocations;

    @Override
    public int ordinal() {
        return 0;
    }

    @Override
    public long allocate(long n) {
        liveAllocations++;
        // one slot per 2 bytes, allocations 256-byte (128-slot) aligned
        long count = (n + 1) / 2;
        int start = (used + 127) / 128 * 128;
        int end = Math.toIntExact(start + count);
        if (end > values.length) {
            int old = values.length;
            values = Arrays.copyOf(values, Math.max(end, 2 * old));
            Arrays.fill(values, old, values.length, Float.NaN);
            bytes = Arrays.copyOf(bytes, values.length * 2);
        }
        used = end;
        return BASE + 2L * start;
    }

    @Override
    public void free(long address) {
        liveAllocations--;
    }

    /** The slot of element {@code i} of {@code elementBytes}-byte elements from {@code address}. */
    private int slot(long address, long i, int elementBytes) {
        long off = address - BASE + i * elementBytes;
        if (address < BASE || off % 2 != 0 || off / 2 >= values.length) {
            throw new AssertionError("address " + Long.toHexString(address) + " + " + i + " elements is not in device"
                    + " memory");
        }
        return (int) (off / 2);
    }

    private float get(long address, long i) {
        return values[slot(address, i, elem)];
    }

    private void set(long address, long i, float v) {
        values[slot(address, i, elem)] = v;
    }

    @Override
    public void copyToDevice(long dst, FloatTensor src) {
        for (int i = 0; i < src.size(); i++) {
            values[slot(dst, i, Float.BYTES)] = src.get(i);
        }
    }

    @Override
    public void copyToDevice(long dst, byte[] src) {
        System.arraycopy(src, 0, bytes, (int) (dst - BASE), src.length);
    }

    @Override
    public void copyToDevice(long dst, int[] src) {
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < src.length; i++) {
            b.putInt((int) (dst - BASE) + 4 * i, src[i]);
        }
    }

    @Override
    public void copyOnDevice(long dst, long src, long n) {
        calls.add("copy");
        int s = slot(src, 0, 1);
        int d = slot(dst, 0, 1);
        System.arraycopy(values, s, values, d, (int) (n / 2));
        System.arraycopy(bytes, (int) (src - BASE), bytes, (int) (dst - BASE), (int) n);
    }

    private int intAt(long address, long index) {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getInt((int) (address - BASE + 4 * index));
    }

    @Override
    public void copyToHost(FloatTensor dst, long src) {
        for (int i = 0; i < dst.size(); i++) {
            dst.set(i, values[slot(src, i, Float.BYTES)]);
        }
    }

    @Override
    public void fill(long address, long n, int value) {
        int first = slot(address, 0, 1);
        Arrays.fill(values, first, Math.min(values.length, first + (int) ((n + 1) / 2)), Float.NaN);
        Arrays.fill(bytes, (int) (address - BASE), (int) Math.min(bytes.length, address - BASE + n), (byte) value);
    }

    @Override
    public void convert(long dst, long src, long n, CudaDtype dtype, boolean toF32) {
        calls.add("convert");
        for (long i = 0; i < n; i++) {
            float v = values[slot(src, i, toF32 ? dtype.bytes() : Float.BYTES)];
            values[slot(dst, i, toF32 ? Float.BYTES : dtype.bytes())] = v;
        }
    }

    @Override
    public void linear(CudaDtype dtype, long x, int ldx, long w, long y, int ldy, long rows, int in, int out) {
        calls.add("linear " + rows + "x" + in + "->" + out);
        for (long r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int i = 0; i < in; i++) {
                    s += (double) get(x, r * ldx + i) * get(w, (long) o * in + i);
                }
                set(y, r * ldy + o, (float) s);
            }
        }
    }

    @Override
    public void attention(ParamsBlock params, int math) {
        calls.add("attention");
        run(params.bytes(), 0);
    }

    @Override
    public void text(ParamsBlock params, int math) {
        calls.add("text");
        ByteBuffer p = params.bytes();
        assertEquals(p.getInt(AttentionParamsLayout.QUERIES), p.getInt(AttentionParamsLayout.SIZE
                + AttentionParamsLayout.QUERIES), "queries");
        run(p, 0);
        run(p, AttentionParamsLayout.SIZE);
    }

    /**
     * SPEC "Interleaved MMCA" straight from the block: each real query's text and image groups as sets of key
     * positions (rule self or block), one softmax each in double precision, added; padding rows zero.
     */
    @Override
    public void interleaved(ParamsBlock params, int math) {
        calls.add("interleaved");
        ByteBuffer p = params.bytes();
        int batch = p.getInt(AttentionParamsLayout.BATCH);
        int heads = p.getInt(AttentionParamsLayout.HEADS);
        int kvHeads = p.getInt(AttentionParamsLayout.KV_HEADS);
        int n = p.getInt(AttentionParamsLayout.QUERIES);
        int keys = p.getInt(AttentionParamsLayout.KEYS);
        int dh = p.getInt(AttentionParamsLayout.DIM_HEAD);
        double scale = p.getFloat(AttentionParamsLayout.SCALE);
        boolean qkNorm = p.getInt(AttentionParamsLayout.QK_NORM) != 0;
        boolean grouped = p.getInt(AttentionParamsLayout.HEAD_MAPPING) == 1;
        long keyLengths = p.getLong(AttentionParamsLayout.KEY_LENGTHS);
        long positions = p.getLong(AttentionParamsLayout.QUERY_POSITIONS);
        long positionsStride = p.getLong(AttentionParamsLayout.QUERY_POSITIONS_BATCH_STRIDE);
        long modality = p.getLong(InterleavedParamsLayout.MODALITY);
        long modalityStride = p.getLong(InterleavedParamsLayout.MODALITY_BATCH_STRIDE);
        boolean block = p.getInt(InterleavedParamsLayout.IMAGE_RULE) == InterleavedParamsLayout.IMAGE_RULE_BLOCK;
        for (int b = 0; b < batch; b++) {
            long length = keyLengths == 0 ? keys : Math.max(0, Math.min(keys, intAt(keyLengths, b)));
            int[] t = new int[keys];
            for (int j = 0; j < length; j++) {
                t[j] = bytes[(int) (modality - BASE + b * modalityStride + j)];
            }
            for (int i = 0; i < n; i++) {
                long position = positions == 0 ? i + (keys - n) : intAt(positions, b * positionsStride + i);
                int kind = position >= 0 && position < length ? t[(int) position] : 0;
                boolean[] text = new boolean[keys];
                boolean[] image = new boolean[keys];
                for (int j = 0; j < length && kind != 0; j++) {
                    if (kind == 1 || !block) {
                        text[j] = t[j] == 1 && j <= position;
                        image[j] = kind == 1 ? t[j] == 2 && j <= position : j == position;
                    } else if (t[j] == 2) {
                        boolean between = false;
                        for (long x = Math.min(j, position) + 1; x < Math.max(j, position); x++) {
                            between |= t[(int) x] == 1;
                        }
                        image[j] = !between;
                    }
                }
                for (int h = 0; h < heads; h++) {
                    int g = grouped ? h / (heads / kvHeads) : h % kvHeads;
                    double[] o = new double[dh];
                    if (kind != 0) {
                        double[] q = vec(p, AttentionParamsLayout.Q, AttentionParamsLayout.Q_STRIDES, b, i, h, dh, qkNorm);
                        for (boolean[] group : new boolean[][] {text, image}) {
                            double[] logit = new double[keys];
                            double max = Double.NEGATIVE_INFINITY;
                            for (int j = 0; j < keys; j++) {
                                if (group[j]) {
                                    double[] k = vec(p, AttentionParamsLayout.K, AttentionParamsLayout.K_STRIDES, b, j,
                                            g, dh, qkNorm);
                                    double s = 0;
                                    for (int e = 0; e < dh; e++) {
                                        s += q[e] * k[e];
                                    }
                                    logit[j] = scale * s;
                                    max = Math.max(max, logit[j]);
                                }
                            }
                            double sum = 0;
                            for (int j = 0; j < keys; j++) {
                                sum += group[j] ? Math.exp(logit[j] - max) : 0;
                            }
                            for (int j = 0; j < keys; j++) {
                                if (group[j]) {
                                    double w = Math.exp(logit[j] - max) / sum;
                                    double[] v = vec(p, AttentionParamsLayout.V, AttentionParamsLayout.V_STRIDES, b, j,
                                            g, dh, false);
                                    for (int e = 0; e < dh; e++) {
                                        o[e] += w * v[e];
                                    }
                                }
                            }
                        }
                    }
                    long oAt = p.getLong(AttentionParamsLayout.O);
                    long oi = offset(p, AttentionParamsLayout.O_STRIDES, b, i, h);
                    for (int e = 0; e < dh; e++) {
                        set(oAt, oi + e, (float) o[e]);
                    }
                }
            }
        }
    }

    @Override
    public void add(long out, long a, long b, long n, CudaDtype dtype) {
        calls.add("add");
        for (long i = 0; i < n; i++) {
            set(out, i, get(a, i) + get(b, i));
        }
    }

    @Override
    public void synchronize() {
    }

    @Override
    public void useStream(long stream) {
    }

    @Override
    public void close() {
    }

    /** SPEC steps 2-5 over the block's strided views, writing exactly the rows the kernels write. */
    private void run(ByteBuffer p, int base) {
        int batch = p.getInt(base + AttentionParamsLayout.BATCH);
        int heads = p.getInt(base + AttentionParamsLayout.HEADS);
        int kvHeads = p.getInt(base + AttentionParamsLayout.KV_HEADS);
        int n = p.getInt(base + AttentionParamsLayout.QUERIES);
        int keys = p.getInt(base + AttentionParamsLayout.KEYS);
        int dh = p.getInt(base + AttentionParamsLayout.DIM_HEAD);
        double scale = p.getFloat(base + AttentionParamsLayout.SCALE);
        boolean causal = p.getInt(base + AttentionParamsLayout.CAUSAL) != 0;
        boolean qkNorm = p.getInt(base + AttentionParamsLayout.QK_NORM) != 0;
        boolean grouped = p.getInt(base + AttentionParamsLayout.HEAD_MAPPING) == 1;
        long keyMask = p.getLong(base + AttentionParamsLayout.KEY_MASK);
        long keyMaskStride = p.getLong(base + AttentionParamsLayout.KEY_MASK_BATCH_STRIDE);
        long queryMask = p.getLong(base + AttentionParamsLayout.QUERY_MASK);
        long queryMaskStride = p.getLong(base + AttentionParamsLayout.QUERY_MASK_BATCH_STRIDE);
        long keyLengths = p.getLong(base + AttentionParamsLayout.KEY_LENGTHS);
        long positions = p.getLong(base + AttentionParamsLayout.QUERY_POSITIONS);
        long positionsStride = p.getLong(base + AttentionParamsLayout.QUERY_POSITIONS_BATCH_STRIDE);
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int g = grouped ? h / (heads / kvHeads) : h % kvHeads;
                for (int i = 0; i < n; i++) {
                    double[] o = new double[dh];
                    boolean active = queryMask == 0 || mask(queryMask, b * queryMaskStride + i);
                    long length = keyLengths == 0 ? keys : intAt(keyLengths, b);
                    long position = positions == 0 ? i + (keys - n) : intAt(positions, b * positionsStride + i);
                    if (active) {
                        double[] q = vec(p, base + AttentionParamsLayout.Q, base + AttentionParamsLayout.Q_STRIDES, b, i,
                                h, dh, qkNorm);
                        double[] logit = new double[keys];
                        boolean[] vis = new boolean[keys];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < keys; j++) {
                            vis[j] = (keyMask == 0 || mask(keyMask, b * keyMaskStride + j)) && j < length
                                    && (!causal || j <= position);
                            if (vis[j]) {
                                double[] k = vec(p, base + AttentionParamsLayout.K, base + AttentionParamsLayout.K_STRIDES,
                                        b, j, g, dh, qkNorm);
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
                                    double w = Math.exp(logit[j] - max) / sum;
                                    double[] v = vec(p, base + AttentionParamsLayout.V,
                                            base + AttentionParamsLayout.V_STRIDES, b, j, g, dh, false);
                                    for (int e = 0; e < dh; e++) {
                                        o[e] += w * v[e];
                                    }
                                }
                            }
                        }
                    }
                    long oAt = p.getLong(base + AttentionParamsLayout.O);
                    long oi = offset(p, base + AttentionParamsLayout.O_STRIDES, b, i, h);
                    for (int e = 0; e < dh; e++) {
                        set(oAt, oi + e, (float) o[e]);
                    }
                }
            }
        }
    }

    private boolean mask(long address, long offset) {
        return bytes[(int) (address - BASE + offset)] != 0;
    }

    private static long offset(ByteBuffer p, int strides, int b, int row, int head) {
        return b * p.getLong(strides) + row * p.getLong(strides + 8) + head * p.getLong(strides + 16);
    }

    private double[] vec(ByteBuffer p, int pointer, int strides, int b, int row, int head, int dh, boolean normalise) {
        long at = p.getLong(pointer);
        long first = offset(p, strides, b, row, head);
        double[] v = new double[dh];
        double ss = 0;
        for (int e = 0; e < dh; e++) {
            v[e] = get(at, first + e);
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
