package dev.mmca.io;

import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import java.util.List;
import java.util.Objects;

/**
 * An interleaved model read by {@link ModelFiles#readInterleaved}: its resolved configuration (composition
 * INTERLEAVED), the validated weights of its one block, and the warnings raised while reading.
 */
public record LoadedInterleaved(MmcaConfig config, MgqaWeights weights, List<String> warnings) {
    public LoadedInterleaved {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        warnings = List.copyOf(warnings);
    }
}
