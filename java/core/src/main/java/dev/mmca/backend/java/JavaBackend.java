package dev.mmca.backend.java;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.Availability;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.util.List;

/** The pure-Java backend: runs anywhere, no native code. */
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
        return Availability.available("pure Java, " + Parallel.threads() + " threads");
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

    /** Threads of the Java backend's pool. */
    public static int threads() {
        return Parallel.threads();
    }
}
