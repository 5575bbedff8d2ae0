package dev.mmca.parity;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import java.util.Objects;

/**
 * What the scenarios of an interleaved block share: the block ({@code config} of composition INTERLEAVED, its
 * weights) and its inputs, {@code tokens [B, N, dim]} with {@code modality [B, N]}; one output,
 * {@value #OUTPUT}.
 */
abstract class InterleavedScenario extends ModelScenario {
    /** The one output: the block's output rows {@code [B, N, dim]}. */
    static final String OUTPUT = "out";

    final MgqaWeights weights;
    final FloatTensor tokens;
    final Modality modality;

    /** @throws IllegalArgumentException when {@code config}'s composition is not INTERLEAVED */
    InterleavedScenario(MmcaConfig config, MgqaWeights weights, FloatTensor tokens, Modality modality) {
        super(config);
        if (config.composition() != Composition.INTERLEAVED) {
            throw new IllegalArgumentException("config: expected composition INTERLEAVED, got "
                    + config.composition());
        }
        this.weights = Objects.requireNonNull(weights, "weights");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.modality = Objects.requireNonNull(modality, "modality");
    }

    /** Refuses an output name other than {@value #OUTPUT}. */
    static void requireOutput(String output) {
        if (!output.equals(OUTPUT)) {
            throw new IllegalArgumentException("output: expected " + OUTPUT + ", got '" + output + "'");
        }
    }
}
