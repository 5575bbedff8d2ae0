package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The forward of {@link SimpleMmca} (outputs {@code visual} and {@code text}) against the float64 reference, within
 * the precision's {@link Precision#relativeTolerance()}. The reference is computed once, on first use.
 */
public final class ForwardScenario extends ModelScenario {
    public static final String NAME = "forward";

    private final MmcaWeights weights;
    private final MmcaInputs inputs;
    private Reference64.Output reference;

    public ForwardScenario(MmcaConfig config, MmcaWeights weights, MmcaInputs inputs) {
        super(config);
        this.weights = Objects.requireNonNull(weights, "weights");
        this.inputs = Objects.requireNonNull(inputs, "inputs");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Run run(Backend backend) {
        try (SimpleMmca model = SimpleMmca.create(config, weights, backend)) {
            long t0 = System.nanoTime();
            MmcaOutput out = model.forward(inputs);
            long nanos = System.nanoTime() - t0;
            Map<String, FloatTensor> outputs = new LinkedHashMap<>();
            outputs.put("visual", out.visual());
            outputs.put("text", out.text());
            return new Run(outputs, nanos);
        }
    }

    @Override
    public Expectation expectation(String output, Precision precision, Map<String, FloatTensor> pathOutputs) {
        Reference64.Output ref = reference();
        double[][][] values;
        switch (output) {
            case "visual":
                values = ref.visual;
                break;
            case "text":
                values = ref.text;
                break;
            default:
                throw new IllegalArgumentException("output: expected visual or text, got '" + output + "'");
        }
        int size = values.length * values[0].length * values[0][0].length;
        return new Expectation("float64", Comparison.flatten(values, size), precision.relativeTolerance());
    }

    /** The float64 reference outputs (computed on the first call). */
    public synchronized Reference64.Output reference() {
        if (reference == null) {
            reference = Reference64.simpleMmca(config, weights, inputs);
        }
        return reference;
    }
}
