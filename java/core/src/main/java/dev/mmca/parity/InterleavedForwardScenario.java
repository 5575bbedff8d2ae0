package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.InterleavedMmca;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.backend.Backend;
import java.util.Map;

/**
 * The forward of {@link InterleavedMmca} on {@code tokens [B, N, dim]} with {@code modality [B, N]} (output
 * {@value #OUTPUT}, padding rows zero) against the float64 reference {@link Reference64#interleaved}, within the
 * precision's {@link Precision#relativeTolerance()}. Named {@value ForwardScenario#NAME}, as the forward of a
 * {@link dev.mmca.SimpleMmca}; the reference is computed once, on first use.
 */
public final class InterleavedForwardScenario extends InterleavedScenario {
    /** The one output: the block's output rows. */
    public static final String OUTPUT = InterleavedScenario.OUTPUT;

    private double[][][] reference;

    /** @throws IllegalArgumentException when {@code config}'s composition is not INTERLEAVED */
    public InterleavedForwardScenario(MmcaConfig config, MgqaWeights weights, FloatTensor tokens, Modality modality) {
        super(config, weights, tokens, modality);
    }

    @Override
    public String name() {
        return ForwardScenario.NAME;
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
        requireOutput(output);
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
