package dev.mmca;

import java.util.Locale;

/**
 * What an image token attends to in the interleaved composition (SPEC "Interleaved MMCA"). Text tokens always
 * attend to the text and the image tokens before them, with one softmax per modality.
 * <ul>
 *   <li>{@link #SELF} (the default): what the DeepSpeed-VisualChat reference code computes in the prompt phase:
 *   the image group is the token itself (its own value, weight 1) and the text group is the text tokens up to
 *   it, each with its softmax, added.</li>
 *   <li>{@link #BLOCK}: the paper's description: one group, the image tokens of its own image (the run of image
 *   tokens holding it, not interrupted by a text token, in both directions), and no text.</li>
 * </ul>
 */
public enum ImageAttention {
    SELF,
    BLOCK;

    /** Parses {@code self} / {@code block}, case-insensitively. */
    public static ImageAttention parse(String text) {
        for (ImageAttention a : values()) {
            if (a.name().equalsIgnoreCase(text.trim())) {
                return a;
            }
        }
        throw new IllegalArgumentException("imageAttention: expected self or block, got '" + text + "'");
    }

    /** The name as written in files and on the command line: {@code self} or {@code block}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
