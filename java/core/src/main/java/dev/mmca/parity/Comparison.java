package dev.mmca.parity;

import dev.mmca.FloatTensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * How far an output is from what was expected: the relative error {@code ||out - expected|| / ||expected||} (or
 * {@code ||out||} when the expected tensor is all zero), the largest absolute difference and where it is. Any
 * NaN or infinity in the output makes the relative error infinite, and its first position is the location.
 */
public final class Comparison {
    private final double relativeError;
    private final double maxAbsError;
    private final int maxAbsIndex;
    private final int[] shape;

    private Comparison(double relativeError, double maxAbsError, int maxAbsIndex, int[] shape) {
        this.relativeError = relativeError;
        this.maxAbsError = maxAbsError;
        this.maxAbsIndex = maxAbsIndex;
        this.shape = shape;
    }

    /** {@code actual} against {@code expected} laid out in {@code actual}'s shape (flat, row-major). */
    public static Comparison of(FloatTensor actual, double[] expected) {
        Objects.requireNonNull(actual, "actual");
        Objects.requireNonNull(expected, "expected");
        if (expected.length != actual.size()) {
            throw new IllegalArgumentException("expected: " + expected.length + " values for an output of shape "
                    + Arrays.toString(actual.shape()) + " (" + actual.size() + " values)");
        }
        double num = 0;
        double den = 0;
        double maxAbs = 0;
        int maxAt = -1;
        for (int i = 0; i < expected.length; i++) {
            double o = actual.get(i);
            double r = expected[i];
            if (!Double.isFinite(o)) {
                return new Comparison(Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, i, actual.shape());
            }
            double d = o - r;
            num += d * d;
            den += r * r;
            if (Math.abs(d) > maxAbs) {
                maxAbs = Math.abs(d);
                maxAt = i;
            }
        }
        return new Comparison(den == 0 ? Math.sqrt(num) : Math.sqrt(num / den), maxAbs, maxAt, actual.shape());
    }

    /** {@code actual} against a float64 result {@code [B][N][C]} such as {@link Reference64.Output#text}. */
    public static Comparison of(FloatTensor actual, double[][][] expected) {
        return of(actual, flatten(expected, actual.size()));
    }

    /** {@code actual} against another float32 output of the same shape. */
    public static Comparison of(FloatTensor actual, FloatTensor expected) {
        Objects.requireNonNull(expected, "expected");
        if (!Arrays.equals(actual.shape(), expected.shape())) {
            throw new IllegalArgumentException("expected: shape " + Arrays.toString(expected.shape())
                    + " for an output of shape " + Arrays.toString(actual.shape()));
        }
        return of(actual, toDoubles(expected));
    }

    /**
     * The first flat index where {@code a} and {@code b} differ in their bits (so {@code 0.0} and {@code -0.0}
     * differ, and two NaNs with one bit pattern do not), or -1 when they are bit-identical.
     */
    public static int firstBitDifference(FloatTensor a, FloatTensor b) {
        if (!Arrays.equals(a.shape(), b.shape())) {
            throw new IllegalArgumentException("b: shape " + Arrays.toString(b.shape()) + " differs from a's "
                    + Arrays.toString(a.shape()));
        }
        for (int i = 0; i < a.size(); i++) {
            if (Float.floatToRawIntBits(a.get(i)) != Float.floatToRawIntBits(b.get(i))) {
                return i;
            }
        }
        return -1;
    }

    /** {@code [i, j, k]}: the position of flat index {@code flat} in a row-major tensor of {@code shape}. */
    public static int[] position(int flat, int[] shape) {
        int[] at = new int[shape.length];
        int rest = flat;
        for (int d = shape.length - 1; d >= 0; d--) {
            at[d] = shape[d] == 0 ? 0 : rest % shape[d];
            rest = shape[d] == 0 ? 0 : rest / shape[d];
        }
        return at;
    }

    public double relativeError() {
        return relativeError;
    }

    /** The largest {@code |out - expected|}; infinite when the output has a NaN or an infinity. */
    public double maxAbsError() {
        return maxAbsError;
    }

    /**
     * The flat index of {@link #maxAbsError()} (the first non-finite output when there is one), -1 when nothing
     * differs.
     */
    public int maxAbsIndex() {
        return maxAbsIndex;
    }

    /** The position of {@link #maxAbsError()}: {@code [batch, token, channel]} for a model output; empty if none. */
    public int[] maxAbsPosition() {
        return maxAbsIndex < 0 ? new int[0] : position(maxAbsIndex, shape);
    }

    /** Whether the relative error is at most {@code tolerance} (an infinite or NaN error never is). */
    public boolean within(double tolerance) {
        return relativeError <= tolerance;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "relative error %.3e, max abs error %.3e at %s", relativeError, maxAbsError,
                Arrays.toString(maxAbsPosition()));
    }

    static double[] flatten(double[][][] a, int expectedSize) {
        double[] r = new double[expectedSize];
        int k = 0;
        for (double[][] m : a) {
            for (double[] row : m) {
                if (k + row.length > expectedSize) {
                    throw new IllegalArgumentException("expected: more values than the output's " + expectedSize);
                }
                System.arraycopy(row, 0, r, k, row.length);
                k += row.length;
            }
        }
        if (k != expectedSize) {
            throw new IllegalArgumentException("expected: " + k + " values for an output of " + expectedSize);
        }
        return r;
    }

    static double[] toDoubles(FloatTensor t) {
        double[] r = new double[t.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = t.get(i);
        }
        return r;
    }
}
