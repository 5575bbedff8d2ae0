package dev.mmca;

import java.util.Arrays;
import java.util.Objects;

/**
 * One forward call's inputs: {@code visual [B, Nv, dim]}, {@code text [B, Nt, dim]} and optional
 * masks {@code visualMask [B, Nv]}, {@code textMask [B, Nt]} (true = real token).
 */
public final class MmcaInputs {
    private final FloatTensor visual;
    private final FloatTensor text;
    private final Mask visualMask;
    private final Mask textMask;

    public MmcaInputs(FloatTensor visual, FloatTensor text, Mask visualMask, Mask textMask) {
        this.visual = Objects.requireNonNull(visual, "visual");
        this.text = Objects.requireNonNull(text, "text");
        this.visualMask = visualMask;
        this.textMask = textMask;
    }

    public FloatTensor visual() { return visual; }
    public FloatTensor text() { return text; }
    /** {@code [B, Nv]} or null. */
    public Mask visualMask() { return visualMask; }
    /** {@code [B, Nt]} or null. */
    public Mask textMask() { return textMask; }

    public int batch() { return visual.dim(0); }
    public int visualTokens() { return visual.dim(1); }
    public int textTokens() { return text.dim(1); }

    /**
     * Checks shapes, masks and values against {@code config}: every error names the argument, what
     * was expected and what came. NaN or infinite inputs are rejected, since they would silently
     * poison every output they can reach.
     */
    public void validate(MmcaConfig config) {
        checkTokens("visual", visual, -1, config.dim());
        int b = visual.dim(0);
        checkTokens("text", text, b, config.dim());
        checkTokenCounts(config, visual.dim(1), text.dim(1));
        checkMask("visualMask", visualMask, b, visual.dim(1));
        checkMask("textMask", textMask, b, text.dim(1));
        checkFinite("visual", visual);
        checkFinite("text", text);
    }

    /**
     * The constraint between token counts that a composition imposes: SEED adds visual and text token by
     * token, so it needs {@code nt == nv}. Every entry point that takes token counts checks it here.
     */
    public static void checkTokenCounts(MmcaConfig config, int nv, int nt) {
        if (config.composition() == Composition.SEED && nv != nt) {
            throw new IllegalArgumentException("text: composition SEED adds visual and text token by token, so it"
                    + " expected as many text tokens as visual tokens (" + nv + "), got " + nt);
        }
    }

    /** Checks that {@code t} is {@code [batch, tokens, dim]} (batch -1: any) with at least one token. */
    static void checkTokens(String name, FloatTensor t, int batch, int dim) {
        int[] s = t.shape();
        if (s.length != 3) {
            throw new IllegalArgumentException(name + ": expected shape [batch, tokens, " + dim + "], got "
                    + Arrays.toString(s));
        }
        if (batch >= 0 && s[0] != batch) {
            throw new IllegalArgumentException(name + ": expected batch " + batch + " (as visual), got "
                    + Arrays.toString(s));
        }
        if (s[0] <= 0 || s[1] <= 0) {
            throw new IllegalArgumentException(name + ": expected at least one batch element and one token, got "
                    + Arrays.toString(s));
        }
        if (s[2] != dim) {
            throw new IllegalArgumentException(name + ": expected last dimension dim = " + dim + ", got "
                    + Arrays.toString(s));
        }
    }

    static void checkMask(String name, Mask m, int batch, int tokens) {
        if (m != null && (m.batch() != batch || m.length() != tokens)) {
            throw new IllegalArgumentException(name + ": expected shape [" + batch + ", " + tokens + "], got ["
                    + m.batch() + ", " + m.length() + "]");
        }
    }

    static void checkFinite(String name, FloatTensor t) {
        int bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new IllegalArgumentException(name + ": expected finite values, got " + t.get(bad) + " at index "
                    + t.indexString(bad));
        }
    }
}
