package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import java.util.Objects;

/**
 * One seeded case of a parity sweep: a config, token counts and masks (null: every token real). Its weights and
 * tokens follow from the seed: weights {@code MmcaWeights.random(config, seed)}, visual tokens
 * {@code SeededInputs.normal(seed + 1, ...)}, text tokens {@code SeededInputs.normal(seed + 2, ...)}.
 */
public record ParityCase(String name, MmcaConfig config, int batch, int visualTokens, int textTokens,
        Mask visualMask, Mask textMask, long seed) {
    public ParityCase {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(config, "config");
        MmcaInputs.checkTokenCounts(config, visualTokens, textTokens);
    }

    /** The case's weights. */
    public MmcaWeights weights() {
        return MmcaWeights.random(config, seed);
    }

    /** The visual tokens {@code [batch, visualTokens, dim]}. */
    public FloatTensor visual() {
        return SeededInputs.normal(seed + 1, batch, visualTokens, config.dim());
    }

    /** The text tokens {@code [batch, textTokens, dim]}. */
    public FloatTensor text() {
        return SeededInputs.normal(seed + 2, batch, textTokens, config.dim());
    }

    /** Tokens and masks together. */
    public MmcaInputs inputs() {
        return new MmcaInputs(visual(), text(), visualMask, textMask);
    }

    @Override
    public String toString() {
        return name;
    }
}
