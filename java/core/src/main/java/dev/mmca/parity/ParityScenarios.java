package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.Modality;
import java.util.List;

/** The scenarios a parity check of a model runs, per composition. */
public final class ParityScenarios {
    private ParityScenarios() {
    }

    /**
     * A {@link dev.mmca.SimpleMmca} (composition CROSS or SEED): the forward against the float64 reference, then
     * incremental decoding against the forward (inapplicable, with the reason, unless the composition is CROSS with
     * causal text). Another kind of model adds its own scenario next to these.
     */
    public static List<ParityScenario> standard(MmcaConfig config, MmcaWeights weights, MmcaInputs inputs) {
        return List.of(new ForwardScenario(config, weights, inputs), new DecodingScenario(config, weights, inputs));
    }

    /**
     * An {@link dev.mmca.InterleavedMmca} (composition INTERLEAVED) on {@code tokens [B, N, dim]} with
     * {@code modality [B, N]}: the forward against the float64 reference ({@link InterleavedForwardScenario}),
     * then decoding in steps against the forward ({@link InterleavedDecodingScenario}).
     *
     * @throws IllegalArgumentException when {@code config}'s composition is not INTERLEAVED
     */
    public static List<ParityScenario> interleaved(MmcaConfig config, MgqaWeights weights, FloatTensor tokens,
            Modality modality) {
        return List.of(new InterleavedForwardScenario(config, weights, tokens, modality),
                new InterleavedDecodingScenario(config, weights, tokens, modality));
    }
}
