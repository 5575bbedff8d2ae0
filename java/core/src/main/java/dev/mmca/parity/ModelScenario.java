package dev.mmca.parity;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import java.util.Objects;

/**
 * What the scenarios of one model share: its configuration, which decides whether a backend can run them (its
 * {@link Backend#supports(MmcaConfig)}); applicable unless a scenario says otherwise.
 */
abstract class ModelScenario implements ParityScenario {
    final MmcaConfig config;

    ModelScenario(MmcaConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    @Override
    public String inapplicable() {
        return null;
    }

    @Override
    public String unsupportedBy(Backend backend) {
        Support s = backend.supports(config);
        return s.isSupported() ? null : s.reason();
    }
}
