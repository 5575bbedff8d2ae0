package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.TextSession;
import dev.mmca.VisualContext;
import dev.mmca.backend.Backend;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Incremental decoding ({@link VisualContext}, {@link TextSession}) against the same path's forward: the visual
 * tokens are encoded once (output {@code visual}, which must equal the forward's bit for bit: the same
 * operations on the same inputs), then the text is appended in steps of 1, 3, 1, 7, 2, 5, ... tokens with the
 * text mask's slices, and the decoded rows (output {@code text}) must equal the forward's text within the
 * precision's {@link Precision#reorderingTolerance()}: the same arithmetic, in another order. Padding rows of a
 * step are zero, as they are in the forward.
 */
public final class DecodingScenario extends ModelScenario {
    public static final String NAME = "decoding";
    /** The step lengths, in turn. */
    static final int[] STEPS = {1, 3, 1, 7, 2, 5};

    private final MmcaWeights weights;
    private final MmcaInputs inputs;

    public DecodingScenario(MmcaConfig config, MmcaWeights weights, MmcaInputs inputs) {
        super(config);
        this.weights = Objects.requireNonNull(weights, "weights");
        this.inputs = Objects.requireNonNull(inputs, "inputs");
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String inapplicable() {
        try {
            SimpleMmcaPlan.of(config).requireDecodable();
            return null;
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    @Override
    public Run run(Backend backend) {
        int nt = inputs.textTokens();
        FloatTensor decoded = FloatTensor.zeros(inputs.batch(), nt, config.dim());
        FloatTensor visualOut;
        long nanos;
        try (SimpleMmca model = SimpleMmca.create(config, weights, backend)) {
            long t0 = System.nanoTime();
            try (VisualContext ctx = model.encodeVisual(inputs.visual(), inputs.visualMask());
                    TextSession session = model.newTextSession(ctx, nt)) {
                // a heap copy: the context's output may live in the backend's memory, freed on close
                visualOut = FloatTensor.of(ctx.visualOutput().toArray(), ctx.visualOutput().shape());
                Mask textMask = inputs.textMask();
                int at = 0;
                for (int s = 0; at < nt; s++) {
                    int n = Math.min(STEPS[s % STEPS.length], nt - at);
                    decoded.setTokens(at, session.append(inputs.text().tokens(at, n),
                            textMask == null ? null : textMask.tokens(at, n)));
                    at += n;
                }
            }
            nanos = System.nanoTime() - t0;
        }
        Map<String, FloatTensor> outputs = new LinkedHashMap<>();
        outputs.put("visual", visualOut);
        outputs.put("text", decoded);
        return new Run(outputs, nanos);
    }

    @Override
    public Expectation expectation(String output, Precision precision, Map<String, FloatTensor> pathOutputs) {
        double tolerance;
        switch (output) {
            case "visual":
                tolerance = 0;
                break;
            case "text":
                tolerance = precision.reorderingTolerance();
                break;
            default:
                throw new IllegalArgumentException("output: expected visual or text, got '" + output + "'");
        }
        return againstForward(output, pathOutputs, tolerance);
    }

    /** Decoded output {@code output} against the same path's {@code forward.output}, within {@code tolerance}. */
    static Expectation againstForward(String output, Map<String, FloatTensor> pathOutputs, double tolerance) {
        String against = ForwardScenario.NAME + "." + output;
        FloatTensor forward = pathOutputs.get(against);
        if (forward == null) {
            throw new IllegalStateException(NAME + "." + output + " is compared with " + against
                    + ", which this path did not compute");
        }
        return new Expectation(against, Comparison.toDoubles(forward), tolerance);
    }
}
