package dev.mmca.parity;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.InterleavedMmca;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import java.util.Map;
import java.util.Objects;

/**
 * The forward of {@link InterleavedMmca} on {@code tokens [B, N, dim]} with {@code modality [B, N]} (output
 * {@value #OUTPUT}, padding rows zero) against the float64 reference {@link Reference64#interleaved}, within the
 * precision's {@link Precision#relativeTolerance()}. Named {@value ForwardScenario#NAME}, as the forward of a
 * {@link dev.mmca.SimpleMmca}; the reference is computed once, on first use.
 */
public final class InterleavedForwardScenario implements ParityScenario {
    /** The one output: the block's output rows. */
    public static final String OUTPUT = "out";

    private final MmcaConfig config;
    private final MgqaWeights weights;
    private final FloatTensor tokens;
    private final Modality modality;
    private double[][][] reference;

    /** @throws IllegalArgumentException when {@code config}'s composition is not INTERLEAVED */
    public InterleavedForwardScenario(MmcaConfig config, MgqaWeights weights, FloatTensor tokens, Modality modality) {
        this.config = requireInterleaved(config);
        this.weights = Objects.requireNonNull(weights, "weights");
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.modality = Objects.requireNonNull(modality, "modality");
    }

    static MmcaConfig requireInterleaved(MmcaConfig config) {
        Objects.requireNonNull(config, "config");
        if (config.composition() != Composition.INTERLEAVED) {
            throw new IllegalArgumentException("config: expected composition INTERLEAVED, got "
                    + config.composition());
        }
        return config;
    }

    @Override
    public String name() {
        return ForwardScenario.NAME;
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

    @Override
    public Run run(Backend backend) {
        try (InterleavedMmca model = InterleavedMmca.create(config, weights, backend)) {
            long t0 = System.nanoTime();
            FloatTensor out = model.forward(tokens, modality);
            return new Run(Map.of(OUTPUT, out), System.nanoTime() - t0);
        }
    }

    @Override
    public Expectation expectation(String output, Precision precision, Map<String, FloatTensor> pathOutputs) {
        if (!output.equals(OUTPUT)) {
            throw new IllegalArgumentException("output: expected " + OUTPUT + ", got '" + output + "'");
        }
        double[][][] ref = reference();
        return new Expectation("float64", Comparison.flatten(ref, ref.length * ref[0].length * config.dim()),
                precision.relativeTolerance());
    }

    /** The float64 reference output {@code [B][N][dim]} (computed on the first call). */
    public synchronized double[][][] reference() {
        if (reference == null) {
            reference = Reference64.interleaved(config, weights, tokens, modality);
        }
        return reference;
    }
}
