package dev.mmca;

import java.util.Objects;

/** A forward call's result: {@code visual [B, Nv, dim]} and {@code text [B, Nt, dim]}. */
public final class MmcaOutput {
    private final FloatTensor visual;
    private final FloatTensor text;

    public MmcaOutput(FloatTensor visual, FloatTensor text) {
        this.visual = Objects.requireNonNull(visual, "visual");
        this.text = Objects.requireNonNull(text, "text");
    }

    public FloatTensor visual() { return visual; }
    public FloatTensor text() { return text; }
}
