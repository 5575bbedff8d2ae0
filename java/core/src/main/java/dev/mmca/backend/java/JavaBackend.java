package dev.mmca.backend.java;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.Availability;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.PreparedModel;
import dev.mmca.backend.Support;

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
    protected PreparedModel doPrepare(MmcaConfig config, MmcaWeights weights) {
        return new JavaModel(config, weights);
    }

    @Override
    protected void doAttention(AttentionProblem problem, FloatTensor q, FloatTensor k, FloatTensor v, FloatTensor out) {
        AttentionArgs a = AttentionArgs.dense(arrayOf(q), arrayOf(k), arrayOf(v),
                out.hasArray() ? out.array() : new float[out.size()], problem.batch(), problem.heads(),
                problem.kvHeads(), problem.queries(), problem.keys(), problem.dimHead());
        a.scale = problem.scale();
        a.causal = problem.causal();
        a.qkNorm = problem.qkNorm();
        a.headMapping = problem.headMapping();
        a.keyMask = problem.keyMask() == null ? null : problem.keyMask().bytesView();
        a.queryMask = problem.queryMask() == null ? null : problem.queryMask().bytesView();
        FusedAttention.run(a);
        if (!out.hasArray()) {
            out.copyFrom(a.o, 0);
        }
    }

    private static float[] arrayOf(FloatTensor t) {
        return t.hasArray() ? t.array() : t.toArray();
    }

    /** Threads of the Java backend's pool. */
    public static int threads() {
        return Parallel.threads();
    }
}
