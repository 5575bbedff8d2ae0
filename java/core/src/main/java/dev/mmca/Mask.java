package dev.mmca;

import java.util.Arrays;
import java.util.Objects;

/**
 * A boolean mask of shape {@code [batch, length]}: {@code true} marks a real token, {@code false}
 * padding. Stored as one byte per element (0 or 1) so native kernels read it as it is.
 */
public final class Mask {
    private final int batch;
    private final int length;
    private final byte[] values;

    private Mask(int batch, int length, byte[] values) {
        this.batch = batch;
        this.length = length;
        this.values = values;
    }

    /** A mask from row-major booleans ({@code values.length == batch * length}); copied. */
    public static Mask of(boolean[] values, int batch, int length) {
        Objects.requireNonNull(values, "values");
        checkShape(batch, length);
        if (values.length != (long) batch * length) {
            throw new IllegalArgumentException("values: expected " + (long) batch * length + " booleans for mask ["
                    + batch + ", " + length + "], got " + values.length);
        }
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (values[i] ? 1 : 0);
        }
        return new Mask(batch, length, b);
    }

    /** A mask from row-major bytes where any non-zero byte means true; copied and normalised to 0/1. */
    public static Mask ofBytes(byte[] values, int batch, int length) {
        Objects.requireNonNull(values, "values");
        checkShape(batch, length);
        if (values.length != (long) batch * length) {
            throw new IllegalArgumentException("values: expected " + (long) batch * length + " bytes for mask ["
                    + batch + ", " + length + "], got " + values.length);
        }
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (values[i] != 0 ? 1 : 0);
        }
        return new Mask(batch, length, b);
    }

    /** The mask of a padded batch: row {@code b} has its first {@code lengths[b]} tokens real. */
    public static Mask fromLengths(int[] lengths, int length) {
        Objects.requireNonNull(lengths, "lengths");
        checkShape(lengths.length, length);
        byte[] b = new byte[lengths.length * length];
        for (int r = 0; r < lengths.length; r++) {
            if (lengths[r] < 0 || lengths[r] > length) {
                throw new IllegalArgumentException("lengths[" + r + "]: expected 0.." + length + ", got " + lengths[r]);
            }
            Arrays.fill(b, r * length, r * length + lengths[r], (byte) 1);
        }
        return new Mask(lengths.length, length, b);
    }

    /** An all-true mask. */
    public static Mask all(int batch, int length) {
        checkShape(batch, length);
        byte[] b = new byte[batch * length];
        Arrays.fill(b, (byte) 1);
        return new Mask(batch, length, b);
    }

    private static void checkShape(int batch, int length) {
        if (batch < 0 || length < 0 || (long) batch * length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("mask shape: expected non-negative [batch, length] with fewer than 2^31"
                    + " elements, got [" + batch + ", " + length + "]");
        }
    }

    /** Tokens {@code [from, from + count)} of every batch element, as a new {@code [batch, count]} mask. */
    public Mask tokens(int from, int count) {
        return new Mask(batch, count, tokens(values, batch, length, from, count));
    }

    /** Tokens {@code [from, from + count)} of every row of row-major {@code [batch, length]} bytes, copied. */
    static byte[] tokens(byte[] values, int batch, int length, int from, int count) {
        if (from < 0 || count < 0 || (long) from + count > length) {
            throw new IllegalArgumentException("tokens: expected tokens [from, from + count) within 0.." + length
                    + ", got from " + from + ", count " + count);
        }
        byte[] b = new byte[batch * count];
        for (int r = 0; r < batch; r++) {
            System.arraycopy(values, r * length + from, b, r * count, count);
        }
        return b;
    }

    public int batch() { return batch; }
    public int length() { return length; }

    public boolean get(int b, int i) {
        return values[b * length + i] != 0;
    }

    /** The 0/1 bytes, row-major (a copy). */
    public byte[] toBytes() {
        return values.clone();
    }

    /** The 0/1 bytes without a copy; callers must not modify them. */
    public byte[] bytesView() {
        return values;
    }

    /** Whether every element is true. */
    public boolean isAllTrue() {
        for (byte v : values) {
            if (v == 0) {
                return false;
            }
        }
        return true;
    }

    /** Element-wise AND with a mask of the same shape. */
    public Mask and(Mask other) {
        if (other.batch != batch || other.length != length) {
            throw new IllegalArgumentException("mask: expected shape [" + batch + ", " + length + "], got ["
                    + other.batch + ", " + other.length + "]");
        }
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (values[i] & other.values[i]);
        }
        return new Mask(batch, length, b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mask && ((Mask) o).batch == batch && ((Mask) o).length == length
                && Arrays.equals(((Mask) o).values, values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * batch + length) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Mask[" + batch + ", " + length + "]";
    }
}
