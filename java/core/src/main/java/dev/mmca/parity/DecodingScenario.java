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
import dev.mmca.backend.Support;
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
public final class DecodingScenario implements ParityScenario {
    public static final String NAME = "decoding";
    private static final int[] STEPS = {1, 3, 1, 7, 2, 5};

    private final MmcaConfig config;
    private final MmcaWeights weights;
    private final MmcaInputs inputs;

    public DecodingScenario(MmcaConfig config, MmcaWeights weights, MmcaInputs inputs) {
        this.config = Objects.requireNonNull(config, "config");
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
    public String unsupportedBy(Backend backend) {
        Support s = backend.supports(config);
        return s.isSupported() ? null : s.reason();
    }

    @Override
    public Run run(Backend backend) {
        int batch = inputs.batch();
        int nt = inputs.textTokens();
        int dim = config.dim();
        float[] decoded = new float[batch * nt * dim];
        FloatTensor visualOut;
        long nanos;
        try (SimpleMmca model = SimpleMmca.create(config, weights, backend)) {
            long t0 = System.nanoTime();
            try (VisualContext ctx = model.encodeVisual(inputs.visual(), inputs.visualMask());
                    TextSession session = model.newTextSession(ctx, nt)) {
                visualOut = FloatTensor.of(ctx.visualOutput().toArray(), ctx.visualOutput().shape());
                int at = 0;
                for (int s = 0; at < nt; s++) {
                    int n = Math.min(STEPS[s % STEPS.length], nt - at);
                    FloatTensor rows = session.append(slice(inputs.text(), at, n), sliceMask(inputs.textMask(), at, n));
                    float[] r = rows.toArray();
                    for (int b = 0; b < batch; b++) {
                        System.arraycopy(r, b * n * dim, decoded, (b * nt + at) * dim, n * dim);
                    }
                    at += n;
                }
            }
            nanos = System.nanoTime() - t0;
        }
        Map<String, FloatTensor> outputs = new LinkedHashMap<>();
        outputs.put("visual", visualOut);
        outputs.put("text", FloatTensor.of(decoded, batch, nt, dim));
        return new Run(outputs, nanos);
    }

    @Override
    public Expectation expectation(String output, Precision precision, Map<String, FloatTensor> pathOutputs) {
        String against = ForwardScenario.NAME + "." + output;
        FloatTensor forward = pathOutputs.get(against);
        if (forward == null) {
            throw new IllegalStateException("decoding." + output + " is compared with " + against
                    + ", which this path did not compute");
        }
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
        return new Expectation(against, Comparison.toDoubles(forward), tolerance);
    }

    /** Tokens {@code [from, from + n)} of every batch element, as a new heap tensor. */
    static FloatTensor slice(FloatTensor t, int from, int n) {
        int b = t.dim(0);
        int len = t.dim(1);
        int dim = t.dim(2);
        float[] out = new float[b * n * dim];
        for (int e = 0; e < b; e++) {
            for (int i = 0; i < n * dim; i++) {
                out[e * n * dim + i] = t.get((e * len + from) * dim + i);
            }
        }
        return FloatTensor.of(out, b, n, dim);
    }

    static Mask sliceMask(Mask m, int from, int n) {
        if (m == null) {
            return null;
        }
        boolean[] v = new boolean[m.batch() * n];
        for (int b = 0; b < m.batch(); b++) {
            for (int i = 0; i < n; i++) {
                v[b * n + i] = m.get(b, from + i);
            }
        }
        return Mask.of(v, m.batch(), n);
    }
}
