package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import java.util.Arrays;

/**
 * A place where the heavy operations run: pure Java, native CPU kernels, or CUDA.
 *
 * <p>The two operations are a whole model ({@link #prepare}: projection GEMMs, fused GQA attention
 * and the fused MMCA text path, with weights packed once) and a single fused attention call
 * ({@link #attention}). Both entry points are final: they check {@link #availability()} and the
 * matching {@code supports(...)} first, then the arguments, and only then dispatch to the
 * implementation, so what a backend says it supports and what it runs cannot disagree.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (see {@link Backends}).
 */
public abstract class Backend {

    /** Short name used on the command line and in properties: {@code java}, {@code cpu}, {@code cuda}. */
    public abstract String name();

    /** Rank for {@code auto} selection: the available backend with the highest priority wins. */
    public abstract int priority();

    /** Whether this backend can run on this host; must not throw and should be cheap after the first call. */
    public abstract Availability availability();

    /** Whether this backend can run a model with {@code config} (e.g. a head dim a kernel lacks). */
    public abstract Support supports(MmcaConfig config);

    /** Whether this backend can run the attention call {@code problem}. */
    public abstract Support supports(AttentionProblem problem);

    /**
     * Binds {@code weights} to this backend for {@code config}.
     *
     * @throws BackendUnavailableException if the backend is unavailable or does not support the config
     * @throws IllegalArgumentException if a weight's shape contradicts the config
     */
    public final PreparedModel prepare(MmcaConfig config, MmcaWeights weights) {
        requireAvailable();
        Support s = supports(config);
        if (!s.isSupported()) {
            throw new BackendUnavailableException("backend '" + name() + "' does not support " + config + ": "
                    + s.reason());
        }
        weights.validate(config);
        return doPrepare(config, weights);
    }

    /**
     * Runs one fused attention call: {@code out = attention(q, k, v)} as {@link AttentionProblem} defines it.
     * Outputs are written completely (masked rows are zero).
     */
    public final void attention(AttentionProblem problem, FloatTensor q, FloatTensor k, FloatTensor v,
            FloatTensor out) {
        requireAvailable();
        Support s = supports(problem);
        if (!s.isSupported()) {
            throw new BackendUnavailableException("backend '" + name() + "' does not support " + problem + ": "
                    + s.reason());
        }
        int b = problem.batch();
        int hd = problem.heads() * problem.dimHead();
        int gd = problem.kvHeads() * problem.dimHead();
        checkShape("q", q, b, problem.queries(), hd);
        checkShape("k", k, b, problem.keys(), gd);
        checkShape("v", v, b, problem.keys(), gd);
        checkShape("out", out, b, problem.queries(), hd);
        for (String name : new String[] {"q", "k", "v"}) {
            FloatTensor t = name.equals("q") ? q : name.equals("k") ? k : v;
            int bad = t.firstNonFinite();
            if (bad >= 0) {
                throw new IllegalArgumentException(name + ": expected finite values, got " + t.get(bad)
                        + " at index " + t.indexString(bad));
            }
        }
        doAttention(problem, q, k, v, out);
    }

    private void requireAvailable() {
        Availability a = availability();
        if (!a.isAvailable()) {
            throw new BackendUnavailableException("backend '" + name() + "' is not available: " + a.reason());
        }
    }

    private static void checkShape(String name, FloatTensor t, int d0, int d1, int d2) {
        int[] s = t.shape();
        if (s.length != 3 || s[0] != d0 || s[1] != d1 || s[2] != d2) {
            throw new IllegalArgumentException(name + ": expected shape [" + d0 + ", " + d1 + ", " + d2 + "], got "
                    + Arrays.toString(s));
        }
    }

    /** Implementation of {@link #prepare}; arguments are already checked. */
    protected abstract PreparedModel doPrepare(MmcaConfig config, MmcaWeights weights);

    /** Implementation of {@link #attention}; arguments are already checked. */
    protected abstract void doAttention(AttentionProblem problem, FloatTensor q, FloatTensor k, FloatTensor v,
            FloatTensor out);

    @Override
    public String toString() {
        return name();
    }
}
