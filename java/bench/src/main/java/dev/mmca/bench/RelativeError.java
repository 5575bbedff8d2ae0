package dev.mmca.bench;

/** {@code ||actual - expected|| / ||expected||} (Euclidean norms, accumulated in float64). */
public final class RelativeError {
    private RelativeError() {
    }

    /**
     * @throws IllegalArgumentException if the lengths differ
     * @return the relative error, or +infinity if {@code actual} holds a NaN or an infinity
     */
    public static double of(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            throw new IllegalArgumentException("actual: expected " + expected.length + " values, got "
                    + actual.length);
        }
        double diff = 0;
        double ref = 0;
        for (int i = 0; i < actual.length; i++) {
            if (!Float.isFinite(actual[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = (double) actual[i] - expected[i];
            diff += d * d;
            ref += (double) expected[i] * expected[i];
        }
        if (ref == 0) {
            return diff == 0 ? 0 : Double.POSITIVE_INFINITY;
        }
        return Math.sqrt(diff / ref);
    }
}
