package dev.mmca.backend.java;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.Availability;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.util.List;

/**
 * The pure-Java backend: runs anywhere, no native code. Its kernels are the Vector API ones when the JVM has
 * {@code jdk.incubator.vector} ({@code --add-modules jdk.incubator.vector}), else plain Java loops; see
 * {@link #kernels()}.
 */
public final class JavaBackend extends Backend {
    private static final JavaBackend INSTANCE = new JavaBackend();

    public static JavaBackend instance() {
        return INSTANCE;
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public int priority() {
        return 0;
    }

    @Override
    public Availability availability() {
        KernelSelection.Choice k = KernelSelection.current();
        if (!k.ok()) {
            return Availability.unavailable(k.reason);
        }
        return Availability.available("pure Java, " + Parallel.threads() + " threads, " + k.kernels.name()
                + " kernels");
    }

    @Override
    public Support supports(MmcaConfig config) {
        return Support.yes();
    }

    @Override
    public Support supports(AttentionProblem problem) {
        return Support.yes();
    }

    @Override
    protected Machine newMachine(List<PackedWeight> weights) {
        return new JavaMachine(weights);
    }

    /**
     * The kernels this JVM runs and why: {@code vector (...)} (Vector API), {@code scalar (...)} (with the flag that
     * would enable the Vector API when the module is missing), or {@code unavailable (...)} when system property
     * {@code mmca.java.kernels} asks for what cannot run.
     */
    public static String kernels() {
        return KernelSelection.current().describe();
    }

    /** Threads of the Java backend's pool. */
    public static int threads() {
        return Parallel.threads();
    }
}
