package dev.mmca;

/**
 * How query head {@code h} of {@code H} picks its key/value head among {@code G}.
 * <ul>
 *   <li>{@link #MODULO}: {@code g(h) = h % G}, what the upstream PyTorch code does (einops
 *   {@code b kvh n d -> b (r kvh) n d}); the default, for weight compatibility.</li>
 *   <li>{@link #GROUPED}: {@code g(h) = h / (H / G)}, the convention of PyTorch SDPA with
 *   {@code enable_gqa}, FlashAttention and Llama.</li>
 * </ul>
 */
public enum HeadMapping {
    MODULO,
    GROUPED;

    /** The key/value head read by query head {@code h}. */
    public int kvHeadOf(int h, int heads, int kvHeads) {
        return this == MODULO ? h % kvHeads : h / (heads / kvHeads);
    }

    /** Parses {@code modulo} / {@code grouped}, case-insensitively. */
    public static HeadMapping parse(String text) {
        for (HeadMapping m : values()) {
            if (m.name().equalsIgnoreCase(text.trim())) {
                return m;
            }
        }
        throw new IllegalArgumentException("headMapping: expected modulo or grouped, got '" + text + "'");
    }
}
