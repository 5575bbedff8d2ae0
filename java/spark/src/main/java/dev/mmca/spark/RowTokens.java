package dev.mmca.spark;

import java.util.Arrays;

/** Converts tokens between {@code float[tokens][dim]} (a row's column) and flat row-major floats. */
final class RowTokens {
    private RowTokens() {
    }

    /**
     * {@code tokens} as {@code tokens.length * dim} floats, row-major.
     *
     * @throws IllegalArgumentException naming the row ({@code where}), the column and the token when the
     *     value is null, a token is null or holds other than {@code dim} floats, or a float is not finite
     */
    static float[] flatten(float[][] tokens, String name, int dim, String where) {
        if (tokens == null) {
            throw new IllegalArgumentException(where + ": column '" + name + "': expected tokens, got null");
        }
        float[] out = new float[tokens.length * dim];
        for (int i = 0; i < tokens.length; i++) {
            float[] token = tokens[i];
            if (token == null) {
                throw new IllegalArgumentException(where + ": column '" + name + "', token " + i
                        + ": expected " + dim + " floats, got null");
            }
            if (token.length != dim) {
                throw new IllegalArgumentException(where + ": column '" + name + "', token " + i + ": expected "
                        + dim + " floats (the model's dim), got " + token.length);
            }
            for (int d = 0; d < dim; d++) {
                if (!Float.isFinite(token[d])) {
                    throw new IllegalArgumentException(where + ": column '" + name + "', token " + i
                            + ": expected finite floats, got " + token[d] + " at " + d);
                }
            }
            System.arraycopy(token, 0, out, i * dim, dim);
        }
        return out;
    }

    /** {@code tokens * dim} floats as {@code float[tokens][dim]}, the external form of {@code array<array<float>>}. */
    static float[][] toTokens(float[] flat, int dim) {
        float[][] t = new float[flat.length / dim][];
        for (int i = 0; i < t.length; i++) {
            t[i] = Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
        }
        return t;
    }
}
