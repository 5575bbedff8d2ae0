package dev.mmca.io;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.Modality;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * An array read from a {@code .npy} file: its shape, its dtype descriptor ({@code <f4}, {@code <f8},
 * {@code |b1} or {@code |u1}) and its values, with conversions to the library's types. The
 * conversion methods return new objects; the array itself is not changed by them.
 */
public final class NpyArray {
    private final Path source;
    private final String dtype;
    private final int[] shape;
    private final int size;
    private final float[] floats;
    private final double[] doubles;
    private final byte[] bytes;
    /** Integers of a dtype wider than a byte (or signed), as read by {@link Npy#readIntegers}. */
    private final long[] longs;

    NpyArray(Path source, String dtype, int[] shape, long[] longs) {
        this.source = source;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.floats = null;
        this.doubles = null;
        this.bytes = null;
        this.longs = longs;
        this.size = longs.length;
    }

    NpyArray(Path source, String dtype, int[] shape, float[] floats, double[] doubles, byte[] bytes) {
        this.source = source;
        this.dtype = dtype;
        this.shape = shape.clone();
        this.floats = floats;
        this.doubles = doubles;
        this.bytes = bytes;
        this.longs = null;
        this.size = floats != null ? floats.length : doubles != null ? doubles.length : bytes.length;
    }

    /** The shape (a copy); empty for a 0-d array. */
    public int[] shape() {
        return shape.clone();
    }

    /** The dtype descriptor as written in the file, e.g. {@code <f4}. */
    public String dtype() {
        return dtype;
    }

    /** Number of elements. */
    public int size() {
        return size;
    }

    /** The file this array was read from. */
    public Path source() {
        return source;
    }

    /**
     * The values as a float32 heap tensor (a copy); {@code <f8} values are rounded to float32.
     *
     * @throws IllegalArgumentException for a dtype other than {@code <f4}/{@code <f8}, or a 0-d array
     * @throws HeapLimitException when the heap cannot hold the copy
     */
    public FloatTensor toFloatTensor() {
        if (floats == null && doubles == null) {
            throw new IllegalArgumentException(source + ": expected dtype <f4 or <f8 for a float tensor, got "
                    + dtype);
        }
        if (shape.length == 0) {
            throw new IllegalArgumentException(source + ": expected an array of at least one dimension for a float"
                    + " tensor, got a 0-d array (use toDoubles())");
        }
        float[] f = HeapCheck.floats(source, "a float32 copy of " + dtype + " " + Arrays.toString(shape), size);
        if (floats != null) {
            System.arraycopy(floats, 0, f, 0, size);
            return FloatTensor.of(f, shape);
        }
        for (int i = 0; i < size; i++) {
            f[i] = (float) doubles[i];
        }
        return FloatTensor.of(f, shape);
    }

    /**
     * The values as a {@code [batch, length]} mask.
     *
     * @throws IllegalArgumentException for a dtype other than {@code |b1}/{@code |u1}, an array that
     *     is not 2-D, or a value other than 0 and 1
     */
    public Mask toMask() {
        if (bytes == null) {
            throw new IllegalArgumentException(source + ": expected dtype |b1 or |u1 for a mask, got " + dtype);
        }
        if (shape.length != 2) {
            throw new IllegalArgumentException(source + ": expected a 2-D mask [batch, length], got shape "
                    + Arrays.toString(shape));
        }
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != 0 && bytes[i] != 1) {
                throw new IllegalArgumentException(source + ": expected mask values 0 or 1, got "
                        + (bytes[i] & 0xff) + " at flat index " + i);
            }
        }
        return Mask.ofBytes(bytes, shape[0], shape[1]);
    }

    /**
     * The values as a {@code [batch, length]} modality (0 padding, 1 text, 2 image).
     *
     * @throws IllegalArgumentException for a dtype other than {@code |u1} or an integer one
     *     ({@link Npy#readIntegers}), an array that is not 2-D or has no element, or a value other than 0, 1 and 2
     *     (named with its position)
     */
    public Modality toModality() {
        if ((bytes == null || dtype.equals("|b1")) && longs == null) {
            throw new IllegalArgumentException(source + ": expected dtype |u1 or an integer dtype for a modality (0"
                    + " padding, 1 text, 2 image), got " + dtype);
        }
        if (shape.length != 2 || size == 0) {
            throw new IllegalArgumentException(source + ": expected a 2-D modality [batch, length] with at least one"
                    + " token, got shape " + Arrays.toString(shape));
        }
        byte[] m = new byte[size];
        for (int i = 0; i < size; i++) {
            long v = longs != null ? longs[i] : bytes[i] & 0xff;
            if (v < 0 || v > 2) {
                String value = dtype.charAt(1) == 'u' ? Long.toUnsignedString(v) : Long.toString(v);
                throw new IllegalArgumentException(source + ": expected modality values 0 (padding), 1 (text) or 2"
                        + " (image), got " + value + " at [" + i / shape[1] + ", " + i % shape[1] + "]");
            }
            m[i] = (byte) v;
        }
        return Modality.of(m, shape[0], shape[1]);
    }

    /**
     * The values as doubles (a copy); booleans become 0 and 1.
     *
     * @throws HeapLimitException when the heap cannot hold the copy
     */
    public double[] toDoubles() {
        double[] d = HeapCheck.doubles(source, "a float64 copy of " + dtype + " " + Arrays.toString(shape), size);
        if (doubles != null) {
            System.arraycopy(doubles, 0, d, 0, size);
        } else if (floats != null) {
            for (int i = 0; i < size; i++) {
                d[i] = floats[i];
            }
        } else if (longs != null) {
            for (int i = 0; i < size; i++) {
                d[i] = longs[i];
            }
        } else {
            for (int i = 0; i < size; i++) {
                d[i] = bytes[i] & 0xff;
            }
        }
        return d;
    }

    @Override
    public String toString() {
        return "NpyArray(" + dtype + ", " + Arrays.toString(shape) + ")";
    }
}
