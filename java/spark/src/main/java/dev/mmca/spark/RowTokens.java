package dev.mmca.spark;

import java.util.Arrays;
import java.util.function.Supplier;

/**
 * Checks a row's token column and converts it between the column's layout and flat row-major
 * floats. Every error names the row ({@code where}, built only when needed), the column, what was
 * expected and what came.
 */
final class RowTokens {
    private RowTokens() {
    }

    /**
     * Nested tokens {@code float[tokens][dim]} as {@code tokens * dim} floats, row-major.
     *
     * @throws IllegalArgumentException when the value is null, or a token is null or holds other than
     *     {@code dim} floats
     */
    static float[] flatten(float[][] tokens, String column, int dim, Supplier<String> where) {
        if (tokens == null) {
            throw new IllegalArgumentException(where.get() + ": column '" + column + "': expected tokens ("
                    + TokenLayout.NESTED.typeName() + ", tokens x " + dim + "), got null");
        }
        float[] out = new float[tokens.length * dim];
        for (int i = 0; i < tokens.length; i++) {
            float[] token = tokens[i];
            if (token == null) {
                throw new IllegalArgumentException(where.get() + ": column '" + column + "', token " + i + ": expected "
                        + dim + " floats, got null");
            }
            if (token.length != dim) {
                throw new IllegalArgumentException(where.get() + ": column '" + column + "', token " + i + ": expected "
                        + dim + " floats (the model's dim), got " + token.length);
            }
            System.arraycopy(token, 0, out, i * dim, dim);
        }
        return out;
    }

    /**
     * Flat tokens, checked: {@code floats} holds whole tokens of {@code dim} floats, as many as
     * {@code tokens} says when a count column ({@code countColumn}) is set.
     *
     * @param tokens the row's value of the count column; ignored when {@code countColumn} is null
     * @return {@code floats} itself (no copy)
     */
    static float[] checkFlat(float[] floats, String column, int dim, String countColumn, Integer tokens,
            Supplier<String> where) {
        if (floats == null) {
            throw new IllegalArgumentException(where.get() + ": column '" + column + "': expected tokens ("
                    + TokenLayout.FLAT.typeName() + ", tokens x " + dim + " floats), got null");
        }
        if (countColumn != null) {
            if (tokens == null || tokens < 0) {
                throw new IllegalArgumentException(where.get() + ": column '" + countColumn + "': expected the token"
                        + " count of column '" + column + "' (an integer >= 0), got " + tokens);
            }
            if ((long) tokens * dim != floats.length) {
                throw new IllegalArgumentException(where.get() + ": column '" + column + "': expected " + countColumn
                        + " x dim = " + tokens + " x " + dim + " = " + (long) tokens * dim + " floats, got "
                        + floats.length);
            }
        } else if (floats.length % dim != 0) {
            throw new IllegalArgumentException(where.get() + ": column '" + column + "': expected a multiple of dim = "
                    + dim + " floats (tokens x dim, the model's dim), got " + floats.length);
        }
        return floats;
    }

    /** {@code tokens * dim} floats as {@code float[tokens][dim]}, the external form of {@code array<array<float>>}. */
    static float[][] toTokens(float[] flat, int dim) {
        float[][] t = new float[flat.length / dim][];
        for (int i = 0; i < t.length; i++) {
            t[i] = Arrays.copyOfRange(flat, i * dim, (i + 1) * dim);
        }
        return t;
    }

    /**
     * Requires finite floats. The model checks every batch already (non-finite inputs would poison
     * every output they reach); this runs only after that check failed, to name the row.
     */
    static void requireFinite(float[] floats, String column, int dim, Supplier<String> where) {
        for (int i = 0; i < floats.length; i++) {
            if (!Float.isFinite(floats[i])) {
                throw new IllegalArgumentException(where.get() + ": column '" + column + "', token " + i / dim
                        + ": expected finite floats, got " + floats[i] + " at " + i % dim);
            }
        }
    }
}
