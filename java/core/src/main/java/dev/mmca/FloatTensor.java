package dev.mmca;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * A dense, row-major (C order) float32 tensor: a shape plus its storage, either a {@code float[]}
 * or a direct {@link FloatBuffer} in native byte order. Direct buffers are never copied by this
 * class, so they can be handed to native code as they are; a {@code float[]} is used in place by
 * the Java backend and copied once at most by native backends.
 *
 * <p>A tensor is a view: it does not copy the storage it is given, and writes through the
 * storage are visible in it.
 */
public final class FloatTensor {
    private final int[] shape;
    private final long size;
    private final float[] array;
    private final FloatBuffer buffer;

    private FloatTensor(int[] shape, float[] array, FloatBuffer buffer) {
        this.shape = shape;
        this.size = checkedSize("shape", shape);
        this.array = array;
        this.buffer = buffer;
    }

    /** Wraps {@code data} (not copied), whose length must equal the product of {@code shape}. */
    public static FloatTensor of(float[] data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = shape.clone();
        long n = checkedSize("shape", s);
        if (data.length != n) {
            throw new IllegalArgumentException("data: expected " + n + " floats for shape " + Arrays.toString(s)
                    + ", got " + data.length);
        }
        return new FloatTensor(s, data, null);
    }

    /**
     * Wraps a direct buffer (not copied): elements {@code [position, position + product(shape))}.
     * The buffer must be direct and in native byte order, so native code can read it in place.
     */
    public static FloatTensor wrap(FloatBuffer data, int... shape) {
        Objects.requireNonNull(data, "data");
        int[] s = shape.clone();
        long n = checkedSize("shape", s);
        if (!data.isDirect()) {
            throw new IllegalArgumentException("data: expected a direct FloatBuffer, got a heap buffer"
                    + " (use FloatTensor.of(float[], shape) for heap data)");
        }
        if (data.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("data: expected native byte order " + ByteOrder.nativeOrder()
                    + ", got " + data.order());
        }
        if (data.remaining() < n) {
            throw new IllegalArgumentException("data: expected at least " + n + " remaining floats for shape "
                    + Arrays.toString(s) + ", got " + data.remaining());
        }
        FloatBuffer view = data.slice();
        view.limit((int) n);
        return new FloatTensor(s, null, view);
    }

    /** A zero-filled heap tensor. */
    public static FloatTensor zeros(int... shape) {
        long n = checkedSize("shape", shape);
        return new FloatTensor(shape.clone(), new float[(int) n], null);
    }

    /** A zero-filled direct tensor in native byte order. */
    public static FloatTensor allocateDirect(int... shape) {
        long n = checkedSize("shape", shape);
        if (n * Float.BYTES > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape: a direct tensor holds at most 2^29 floats, got " + n);
        }
        FloatBuffer b = ByteBuffer.allocateDirect((int) (n * Float.BYTES)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        return new FloatTensor(shape.clone(), null, b);
    }

    private static long checkedSize(String name, int[] shape) {
        Objects.requireNonNull(shape, name);
        if (shape.length == 0) {
            throw new IllegalArgumentException(name + ": expected at least one dimension, got none");
        }
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException(name + ": expected non-negative sizes, got " + Arrays.toString(shape));
            }
            if (d == 0) {
                return 0; // an empty tensor, whatever the other sizes
            }
        }
        long n = 1;
        for (int d : shape) {
            n *= d;
            if (n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException(name + ": expected at most 2^31-9 elements, got "
                        + Arrays.toString(shape));
            }
        }
        return n;
    }

    /** The shape (a copy). */
    public int[] shape() { return shape.clone(); }
    public int rank() { return shape.length; }
    public int dim(int axis) { return shape[axis]; }
    /** Number of elements. */
    public int size() { return (int) size; }
    /** Whether the storage is a direct buffer (native memory). */
    public boolean isDirect() { return buffer != null; }
    /** Whether the storage is a {@code float[]}. */
    public boolean hasArray() { return array != null; }

    /** The backing array (not a copy); only for heap tensors. */
    public float[] array() {
        if (array == null) {
            throw new IllegalStateException("tensor is backed by a direct buffer, not an array");
        }
        return array;
    }

    /** A view of the backing direct buffer, positioned at element 0; only for direct tensors. */
    public FloatBuffer buffer() {
        if (buffer == null) {
            throw new IllegalStateException("tensor is backed by an array, not a direct buffer");
        }
        FloatBuffer d = buffer.duplicate();
        d.clear().limit(size());
        return d.slice();
    }

    public float get(int flatIndex) {
        return array != null ? array[flatIndex] : buffer.get(flatIndex);
    }

    public void set(int flatIndex, float value) {
        if (array != null) {
            array[flatIndex] = value;
        } else {
            buffer.put(flatIndex, value);
        }
    }

    /** Copies all elements into {@code dst} starting at {@code offset}. */
    public void copyTo(float[] dst, int offset) {
        if (array != null) {
            System.arraycopy(array, 0, dst, offset, size());
        } else {
            FloatBuffer d = buffer.duplicate();
            d.clear().limit(size());
            d.get(dst, offset, size());
        }
    }

    /** Copies all elements from {@code src} starting at {@code offset}. */
    public void copyFrom(float[] src, int offset) {
        if (array != null) {
            System.arraycopy(src, offset, array, 0, size());
        } else {
            FloatBuffer d = buffer.duplicate();
            d.clear().limit(size());
            d.put(src, offset, size());
        }
    }

    /** The elements as a new array. */
    public float[] toArray() {
        float[] out = new float[size()];
        copyTo(out, 0);
        return out;
    }

    /**
     * Tokens {@code [from, from + count)} of every batch element of this {@code [B, N, dim]} tensor, copied into a
     * new {@code [B, count, dim]} tensor (direct when this one is): the step of a decoding loop.
     */
    public FloatTensor tokens(int from, int count) {
        checkTokenRange("tokens", from, count);
        int b = shape[0];
        int dim = shape[2];
        FloatTensor out = isDirect() ? allocateDirect(b, count, dim) : zeros(b, count, dim);
        out.copyTokens(this, from, 0, count);
        return out;
    }

    /**
     * Copies {@code part [B, count, dim]} into tokens {@code [at, at + count)} of every batch element of this
     * {@code [B, N, dim]} tensor: collects the outputs of decoding steps.
     */
    public void setTokens(int at, FloatTensor part) {
        Objects.requireNonNull(part, "part");
        if (shape.length != 3 || part.shape.length != 3 || part.shape[0] != shape[0] || part.shape[2] != shape[2]) {
            throw new IllegalArgumentException("part: expected shape [" + (shape.length == 3 ? shape[0] : "B")
                    + ", count, " + (shape.length == 3 ? shape[2] : "dim") + "] to go into " + this + ", got "
                    + Arrays.toString(part.shape));
        }
        checkTokenRange("setTokens", at, part.shape[1]);
        copyTokens(part, 0, at, part.shape[1]);
    }

    private void checkTokenRange(String what, int from, int count) {
        if (shape.length != 3) {
            throw new IllegalStateException(what + ": expected a [B, N, dim] tensor, got " + this);
        }
        if (from < 0 || count < 0 || (long) from + count > shape[1]) {
            throw new IllegalArgumentException(what + ": expected tokens [from, from + count) within 0.." + shape[1]
                    + ", got from " + from + ", count " + count);
        }
    }

    /** Rows {@code [srcFrom, srcFrom + count)} of src into rows {@code [dstFrom, ...)} of this, per batch element. */
    private void copyTokens(FloatTensor src, int srcFrom, int dstFrom, int count) {
        int dim = shape[2];
        int srcLen = src.shape[1];
        int dstLen = shape[1];
        float[] row = new float[count * dim];
        for (int e = 0; e < shape[0]; e++) {
            int s = (e * srcLen + srcFrom) * dim;
            int d = (e * dstLen + dstFrom) * dim;
            if (src.array != null) {
                System.arraycopy(src.array, s, row, 0, row.length);
            } else {
                src.buffer.duplicate().clear().position(s).get(row, 0, row.length);
            }
            if (array != null) {
                System.arraycopy(row, 0, array, d, row.length);
            } else {
                buffer.duplicate().clear().position(d).put(row, 0, row.length);
            }
        }
    }

    /** The index of the first NaN or infinite element, or -1. */
    public int firstNonFinite() {
        int n = size();
        // Chunks scanned without a branch per element (a loop C2 vectorises), and only a chunk that holds a
        // non-finite value scanned again for its index; a direct buffer is copied a chunk at a time into a
        // small array first, since its per-element get is checked and far slower.
        float[] chunk = array != null ? array : new float[Math.min(n, SCAN_CHUNK)];
        for (int from = 0; from < n; from += SCAN_CHUNK) {
            int len = Math.min(SCAN_CHUNK, n - from);
            int base = array != null ? from : 0;
            if (array == null) {
                buffer.get(from, chunk, 0, len);
            }
            if (!allFinite(chunk, base, base + len)) {
                for (int i = base; i < base + len; i++) {
                    if (!Float.isFinite(chunk[i])) {
                        return from + (i - base);
                    }
                }
            }
        }
        return -1;
    }

    private static final int SCAN_CHUNK = 4096;

    /** True when a[from, to) holds no NaN or infinity: an exponent of all ones carries into the sign bit. */
    private static boolean allFinite(float[] a, int from, int to) {
        int bits = 0;
        for (int i = from; i < to; i++) {
            bits |= (Float.floatToRawIntBits(a[i]) & 0x7f800000) + 0x00800000;
        }
        return bits >= 0;
    }

    /** Formats a flat index as a multi-index, for error messages. */
    public String indexString(int flatIndex) {
        int[] idx = new int[shape.length];
        int rest = flatIndex;
        for (int a = shape.length - 1; a >= 0; a--) {
            int d = Math.max(shape[a], 1);
            idx[a] = rest % d;
            rest /= d;
        }
        return Arrays.toString(idx);
    }

    @Override
    public String toString() {
        return "FloatTensor" + Arrays.toString(shape) + (isDirect() ? " (direct)" : "");
    }
}
