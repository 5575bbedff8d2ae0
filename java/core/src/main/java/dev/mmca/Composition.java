package dev.mmca;

/**
 * How {@link SimpleMmca} combines its three attention blocks (SPEC "SimpleMMCA").
 * <ul>
 *   <li>{@link #CROSS}: {@code visual = Avis(v)}, {@code text = Atext(t, causal) + Across(t, context = visual)};
 *   Nv and Nt may differ. The default.</li>
 *   <li>{@link #SEED}: {@code visual = Avis(v)}, {@code text = Atext(t) + Across(t + visual)}, the
 *   upstream code's computation; requires Nv == Nt; one causal flag for all three blocks.</li>
 *   <li>{@link #INTERLEAVED}: not a SimpleMMCA composition but one block over one sequence of interleaved text and
 *   image tokens with a modality per token (SPEC "Interleaved MMCA", DeepSpeed-VisualChat): run by
 *   {@link InterleavedMmca}; always causal.</li>
 * </ul>
 */
public enum Composition {
    CROSS,
    SEED,
    INTERLEAVED;

    /** The causal flag used when the configuration does not set one. */
    public boolean defaultCausal() {
        return this != SEED;
    }

    /** Parses {@code cross} / {@code seed} / {@code interleaved}, case-insensitively. */
    public static Composition parse(String text) {
        for (Composition c : values()) {
            if (c.name().equalsIgnoreCase(text.trim())) {
                return c;
            }
        }
        throw new IllegalArgumentException("composition: expected cross, seed or interleaved, got '" + text + "'");
    }
}
