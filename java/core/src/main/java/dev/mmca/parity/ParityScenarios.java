package dev.mmca.parity;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import java.util.List;

/** The scenarios a parity check of a {@link dev.mmca.SimpleMmca} model runs. */
public final class ParityScenarios {
    private ParityScenarios() {
    }

    /**
     * The forward against the float64 reference, then incremental decoding against the forward (inapplicable,
     * with the reason, unless the composition is CROSS with causal text). Another kind of model adds its own
     * scenario next to these.
     */
    public static List<ParityScenario> standard(MmcaConfig config, MmcaWeights weights, MmcaInputs inputs) {
        return List.of(new ForwardScenario(config, weights, inputs), new DecodingScenario(config, weights, inputs));
    }
}
