package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.plan.InterleavedPlan;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleSupplier;

/**
 * A deliberately broken backend for the tests of parity checks: the {@code java} backend with every weight of
 * the visual output projection (of an interleaved block: its output projection) scaled by
 * {@code 1 + }{@value #PROPERTY} (default {@value #DEFAULT}), so that the outputs of a forward are off by about
 * that much while its decoding still agrees with its forward. Listed in
 * no service file of the library; a test registers it (a service file on a forked JVM's class path) or passes it
 * directly.
 */
public final class PerturbedBackend extends Backend {
    /** System property: the relative perturbation of the weights. */
    public static final String PROPERTY = "mmca.test.perturbation";
    static final String DEFAULT = "1e-3";

    private final DoubleSupplier perturbation;

    /** Used by {@link java.util.ServiceLoader}: the perturbation of {@value #PROPERTY}. */
    public PerturbedBackend() {
        this(Double.parseDouble(System.getProperty(PROPERTY, DEFAULT)));
    }

    /** The java backend with the (visual) output projection scaled by {@code 1 + perturbation}. */
    public PerturbedBackend(double perturbation) {
        this(() -> perturbation);
    }

    /** The perturbation read when a model is prepared (e.g. one that depends on a setting a test changes). */
    public PerturbedBackend(DoubleSupplier perturbation) {
        this.perturbation = perturbation;
    }

    @Override public String name() { return "perturbed"; }
    /** Below {@code java}, so that {@code auto} never picks it. */
    @Override public int priority() { return -10; }
    @Override public Availability availability() {
        return Availability.available("a test backend: java with the visual output projection scaled by 1 + "
                + perturbation.getAsDouble());
    }
    @Override public Support supports(MmcaConfig config) { return Support.yes(); }
    @Override public Support supports(AttentionProblem problem) { return Support.yes(); }

    @Override
    protected Machine newMachine(List<PackedWeight> weights) {
        Backend java = JavaBackend.instance();
        if (weights.isEmpty()) {
            return java.newMachine(weights); // single attention calls: unperturbed
        }
        List<PackedWeight> perturbed = new ArrayList<>(weights);
        // an interleaved block packs two matrices (InterleavedPlan.packWeights), a SimpleMMCA model five
        int out = weights.size() == 2 ? InterleavedPlan.OUT : SimpleMmcaPlan.VISUAL_OUT;
        PackedWeight w = weights.get(out);
        float factor = (float) (1 + perturbation.getAsDouble());
        float[] data = w.data().clone();
        for (int i = 0; i < data.length; i++) {
            data[i] *= factor;
        }
        perturbed.set(out, PackedWeight.stack(w.name(), FloatTensor.of(data, w.out(), w.in())));
        return java.newMachine(perturbed);
    }
}
