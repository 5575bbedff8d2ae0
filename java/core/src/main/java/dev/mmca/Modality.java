package dev.mmca;

import java.util.Arrays;
import java.util.Objects;

/**
 * The modality of every token of an interleaved sequence, {@code [batch, length]}: {@link #PADDING} (0, not a
 * token: its output row is zero and no query sees it), {@link #TEXT} (1) or {@link #IMAGE} (2). Stored as one
 * byte per token so native kernels read it as it is. Immutable; every factory checks the values.
 */
public final class Modality {
    public static final byte PADDING = 0;
    public static final byte TEXT = 1;
    public static final byte IMAGE = 2;

    private final int batch;
    private final int length;
    private final byte[] values;

    private Modality(int batch, int length, byte[] values) {
        this.batch = batch;
        this.length = length;
        this.values = values;
    }

    /** From row-major bytes ({@code values.length == batch * length}), each 0, 1 or 2; copied. */
    public static Modality of(byte[] values, int batch, int length) {
        Objects.requireNonNull(values, "values");
        checkShape(batch, length, values.length);
        byte[] copy = values.clone();
        for (int i = 0; i < copy.length; i++) {
            check(copy[i], i, length);
        }
        return new Modality(batch, length, copy);
    }

    /** From row-major ints, each 0, 1 or 2. */
    public static Modality of(int[] values, int batch, int length) {
        Objects.requireNonNull(values, "values");
        checkShape(batch, length, values.length);
        byte[] b = new byte[values.length];
        for (int i = 0; i < b.length; i++) {
            check(values[i], i, length);
            b[i] = (byte) values[i];
        }
        return new Modality(batch, length, b);
    }

    /**
     * One string per batch element, one character per token: {@code t} text, {@code i} image, {@code .}
     * padding; every row of the same length. {@code Modality.parse("ttiiiit", "tiiit..")}.
     */
    public static Modality parse(String... rows) {
        Objects.requireNonNull(rows, "rows");
        if (rows.length == 0) {
            throw new IllegalArgumentException("rows: expected at least one row, got none");
        }
        int length = rows[0].length();
        byte[] b = new byte[rows.length * length];
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length() != length) {
                throw new IllegalArgumentException("rows[" + r + "]: expected " + length + " tokens (as rows[0]), got "
                        + rows[r].length());
            }
            for (int i = 0; i < length; i++) {
                char c = rows[r].charAt(i);
                b[r * length + i] = switch (c) {
                    case 't' -> TEXT;
                    case 'i' -> IMAGE;
                    case '.' -> PADDING;
                    default -> throw new IllegalArgumentException("rows[" + r + "][" + i + "]: expected 't' (text), 'i'"
                            + " (image) or '.' (padding), got '" + c + "'");
                };
            }
        }
        checkShape(rows.length, length, b.length);
        return new Modality(rows.length, length, b);
    }

    /** Bytes already known to hold 0, 1 and 2 only (a session's cache), not copied. */
    static Modality wrap(byte[] values, int batch, int length) {
        return new Modality(batch, length, values);
    }

    private static void checkShape(int batch, int length, int count) {
        if (batch <= 0 || length <= 0 || (long) batch * length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("modality shape: expected [batch, length] with at least one token and"
                    + " fewer than 2^31 elements, got [" + batch + ", " + length + "]");
        }
        if (count != (long) batch * length) {
            throw new IllegalArgumentException("values: expected " + (long) batch * length + " values for modality ["
                    + batch + ", " + length + "], got " + count);
        }
    }

    private static void check(int v, int index, int length) {
        if (v < PADDING || v > IMAGE) {
            throw new IllegalArgumentException("modality: expected 0 (padding), 1 (text) or 2 (image), got " + v
                    + " at [" + index / length + ", " + index % length + "]");
        }
    }

    public int batch() { return batch; }
    public int length() { return length; }

    /** The modality of token i of batch element b. */
    public byte get(int b, int i) {
        return values[b * length + i];
    }

    /**
     * Tokens {@code [from, from + count)} of every batch element, a new {@code [batch, count]} modality: the step
     * of a decoding loop ({@link InterleavedSession#append}); {@code count} at least 1.
     */
    public Modality tokens(int from, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count: expected at least one token, got " + count);
        }
        return new Modality(batch, count, Mask.tokens(values, batch, length, from, count));
    }

    /** Tokens of batch element b that are not padding. */
    public int realTokens(int b) {
        int n = 0;
        for (int i = 0; i < length; i++) {
            n += values[b * length + i] != PADDING ? 1 : 0;
        }
        return n;
    }

    /** The bytes, row-major (a copy). */
    public byte[] toBytes() {
        return values.clone();
    }

    /** The bytes without a copy; callers must not modify them. */
    public byte[] bytesView() {
        return values;
    }

    /** Row b in the notation of {@link #parse}. */
    public String row(int b) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            byte v = values[b * length + i];
            sb.append(v == TEXT ? 't' : v == IMAGE ? 'i' : '.');
        }
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Modality m && m.batch == batch && m.length == length && Arrays.equals(m.values, values);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * batch + length) + Arrays.hashCode(values);
    }

    @Override
    public String toString() {
        return "Modality[" + batch + ", " + length + "]";
    }
}
