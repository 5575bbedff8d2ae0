package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A scenario as another one, except that one output is scaled by {@code 1 + drift}: a stand-in for a path whose
 * output has drifted, for the tests that a parity check finds it.
 */
final class DriftingScenario implements ParityScenario {
    private final ParityScenario scenario;
    private final String output;
    private final float drift;

    DriftingScenario(ParityScenario scenario, String output, float drift) {
        this.scenario = scenario;
        this.output = output;
        this.drift = drift;
    }

    @Override public String name() { return scenario.name(); }
    @Override public String inapplicable() { return scenario.inapplicable(); }
    @Override public String unsupportedBy(Backend backend) { return scenario.unsupportedBy(backend); }

    @Override
    public Run run(Backend backend) {
        Run run = scenario.run(backend);
        Map<String, FloatTensor> outputs = new LinkedHashMap<>(run.outputs());
        float[] values = outputs.get(output).toArray();
        for (int i = 0; i < values.length; i++) {
            values[i] *= 1 + drift;
        }
        outputs.put(output, FloatTensor.of(values, outputs.get(output).shape()));
        return new Run(outputs, run.nanos());
    }

    @Override
    public Expectation expectation(String name, Precision precision, Map<String, FloatTensor> pathOutputs) {
        return scenario.expectation(name, precision, pathOutputs);
    }
}
