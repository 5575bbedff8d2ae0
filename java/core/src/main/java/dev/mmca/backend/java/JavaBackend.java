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
        return Availability.available("pure Java");
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
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    protected void doAttention(AttentionProblem problem, FloatTensor q, FloatTensor k, FloatTensor v, FloatTensor out) {
        throw new UnsupportedOperationException("not yet");
    }
}
