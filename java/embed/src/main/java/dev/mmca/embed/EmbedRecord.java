package dev.mmca.embed;

import java.util.Arrays;
import java.util.Objects;

/**
 * One record to embed: its real visual tokens {@code [visualLength, dim]} and text tokens
 * {@code [textLength, dim]}, row-major and without padding. Either length may be zero.
 *
 * <p>Records read from a shard are views into the shard's arrays (no copy on the way to a batch);
 * {@link #visual()} and {@link #text()} then copy out their part.
 */
public final class EmbedRecord {
    private final int visualLength;
    private final int textLength;
    private final float[] visual;
    private final int visualOffset;
    private final float[] text;
    private final int textOffset;
    private final int dim;

    /**
     * @param visual {@code visualLength * dim} floats (not copied)
     * @param text {@code textLength * dim} floats (not copied)
     * @param dim the token width, used to derive and check the lengths
     */
    public EmbedRecord(float[] visual, float[] text, int dim) {
        Objects.requireNonNull(visual, "visual");
        Objects.requireNonNull(text, "text");
        if (dim < 1) {
            throw new IllegalArgumentException("dim: expected a positive integer, got " + dim);
        }
        if (visual.length % dim != 0) {
            throw new IllegalArgumentException("visual: expected a multiple of dim = " + dim + " floats (tokens x dim),"
                    + " got " + visual.length);
        }
        if (text.length % dim != 0) {
            throw new IllegalArgumentException("text: expected a multiple of dim = " + dim + " floats (tokens x dim),"
                    + " got " + text.length);
        }
        this.visual = visual;
        this.text = text;
        this.visualOffset = 0;
        this.textOffset = 0;
        this.visualLength = visual.length / dim;
        this.textLength = text.length / dim;
        this.dim = dim;
    }

    /** A view of {@code length * dim} floats at the given offsets of larger arrays (callers check bounds). */
    EmbedRecord(float[] visual, int visualOffset, int visualLength, float[] text, int textOffset, int textLength,
            int dim) {
        this.visual = visual;
        this.visualOffset = visualOffset;
        this.visualLength = visualLength;
        this.text = text;
        this.textOffset = textOffset;
        this.textLength = textLength;
        this.dim = dim;
    }

    public int visualLength() { return visualLength; }
    public int textLength() { return textLength; }
    /** Token width. */
    public int dim() { return dim; }

    /** The visual tokens, {@code visualLength * dim} floats (the array given, or a copy of a view's part). */
    public float[] visual() {
        return part(visual, visualOffset, visualLength);
    }

    /** The text tokens, {@code textLength * dim} floats (the array given, or a copy of a view's part). */
    public float[] text() {
        return part(text, textOffset, textLength);
    }

    /** Real tokens, visual plus text. */
    public int tokens() { return visualLength + textLength; }

    /** Copies the visual tokens into {@code dst} at {@code offset}. */
    void copyVisual(float[] dst, int offset) {
        System.arraycopy(visual, visualOffset, dst, offset, visualLength * dim);
    }

    /** Copies the text tokens into {@code dst} at {@code offset}. */
    void copyText(float[] dst, int offset) {
        System.arraycopy(text, textOffset, dst, offset, textLength * dim);
    }

    private float[] part(float[] a, int offset, int length) {
        int n = length * dim;
        return offset == 0 && a.length == n ? a : Arrays.copyOfRange(a, offset, offset + n);
    }
}
