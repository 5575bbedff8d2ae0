package dev.mmca.io;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import java.util.List;
import java.util.Objects;

/**
 * A model read by {@link ModelFiles#load}: its resolved configuration, its validated weights, and
 * the warnings raised while reading (e.g. tensors that are not part of the model).
 */
public record LoadedModel(MmcaConfig config, MmcaWeights weights, List<String> warnings) {
    public LoadedModel {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        warnings = List.copyOf(warnings);
    }
}
