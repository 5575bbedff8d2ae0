package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.plan.AttentionCallPlan;
import dev.mmca.plan.InterleavedPlan;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A place where the heavy operations run: pure Java, native CPU kernels, or CUDA.
 *
 * <p>A backend does not know the model: it provides a {@link Machine} that executes plans
 * ({@link dev.mmca.plan.Plan}: projection GEMMs, fused GQA attention, the fused two-softmax text
 * attention, an addition) over its own memory, and the plans come from core
 * ({@link SimpleMmcaPlan}, {@link AttentionCallPlan}). The two entry points are final: they check
 * {@link #availability()} and the matching {@code supports(...)} first, then the arguments, and only
 * then hand a plan to the machine, so what a backend says it supports and what it runs cannot disagree.
 *
 * <p>Implementations are found with {@link java.util.ServiceLoader} (see {@link Backends}).
 */
public abstract class Backend {
    private volatile Machine attentionMachine;

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
     * Whether this backend can run the interleaved attention call {@code problem}; by default, whether it runs the
     * plain causal problem of the same sizes ({@link InterleavedProblem#asCausalProblem()}), since the interleaved
     * kernels share the plain ones' limits.
     */
    public Support supports(InterleavedProblem problem) {
        return supports(problem.asCausalProblem());
    }

    /**
     * Binds {@code weights} to this backend for {@code config}.
     *
     * @throws BackendUnavailableException if the backend is unavailable or does not support the config
     * @throws IllegalArgumentException if a weight's shape contradicts the config
     */
    public final PreparedModel prepare(MmcaConfig config, MmcaWeights weights) {
        SimpleMmcaPlan plan = checkedPlan(config, weights);
        return new PreparedModel(plan, newMachine(plan.packWeights(weights)));
    }

    /**
     * The checks of {@link #prepare} (available, supports the config, weights match it), then the model's plan:
     * for backends that offer other entry points to a model, such as tensors in device memory.
     */
    protected final SimpleMmcaPlan checkedPlan(MmcaConfig config, MmcaWeights weights) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        requireAvailable();
        Support s = supports(config);
        if (!s.isSupported()) {
            throw new BackendUnavailableException("backend '" + name() + "' does not support " + config + ": "
                    + s.reason());
        }
        weights.validate(config);
        return SimpleMmcaPlan.of(config);
    }

    /**
     * Binds the weights of one interleaved block ({@code to_q}, {@code to_k}, {@code to_v}, {@code to_out}) to this
     * backend for {@code config}, whose composition must be {@link dev.mmca.Composition#INTERLEAVED}.
     *
     * @throws BackendUnavailableException if the backend is unavailable or does not support the config
     * @throws IllegalArgumentException if the composition is another, or a weight's shape contradicts the config
     */
    public final PreparedInterleaved prepareInterleaved(MmcaConfig config, MgqaWeights weights) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        InterleavedPlan plan = InterleavedPlan.of(config);
        requireAvailable();
        Support s = supports(config);
        if (!s.isSupported()) {
            throw new BackendUnavailableException("backend '" + name() + "' does not support " + config + ": "
                    + s.reason());
        }
        weights.validate("", config);
        return new PreparedInterleaved(plan, newMachine(plan.packWeights(weights)));
    }

    /**
     * This backend on device {@code ordinal} (the request {@code name:ordinal}, e.g. {@code cuda:1}). Backends
     * without devices refuse.
     */
    public Backend onDevice(int ordinal) {
        throw new IllegalArgumentException("backend: '" + name() + "' runs on the host and has no devices, got '"
                + name() + ":" + ordinal + "'");
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
        AttentionCallPlan call = AttentionCallPlan.of(problem);
        PlanIo io = new PlanIo().tensor(call.q, q).tensor(call.k, k).tensor(call.v, v).tensor(call.out, out)
                .mask(call.keyMask, problem.keyMask()).mask(call.queryMask, problem.queryMask());
        attentionMachine().run(call.plan, io);
    }

    /**
     * Runs one interleaved attention call: {@code out = attention(q, k, v)} over the tokens of
     * {@code problem.modality()} with two softmaxes per row, as {@link InterleavedProblem} defines it. Outputs are
     * written completely (padding rows are zero).
     */
    public final void attention(InterleavedProblem problem, FloatTensor q, FloatTensor k, FloatTensor v,
            FloatTensor out) {
        Objects.requireNonNull(problem, "problem");
        requireAvailable();
        Support s = supports(problem);
        if (!s.isSupported()) {
            throw new BackendUnavailableException("backend '" + name() + "' does not support " + problem + ": "
                    + s.reason());
        }
        int b = problem.batch();
        int n = problem.tokens();
        int hd = problem.heads() * problem.dimHead();
        int gd = problem.kvHeads() * problem.dimHead();
        checkShape("q", q, b, n, hd);
        checkShape("k", k, b, n, gd);
        checkShape("v", v, b, n, gd);
        checkShape("out", out, b, n, hd);
        requireFinite("q", q);
        requireFinite("k", k);
        requireFinite("v", v);
        InterleavedPlan.Call call = InterleavedPlan.call(problem);
        PlanIo io = new PlanIo().tensor(call.q, q).tensor(call.k, k).tensor(call.v, v).tensor(call.out, out)
                .modality(call.modality, problem.modality());
        attentionMachine().run(call.plan, io);
    }

    private static void requireFinite(String name, FloatTensor t) {
        int bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new IllegalArgumentException(name + ": expected finite values, got " + t.get(bad) + " at index "
                    + t.indexString(bad));
        }
    }

    /** The machine of single attention calls, made on first use and kept for the life of the backend. */
    private Machine attentionMachine() {
        Machine m = attentionMachine;
        if (m == null) {
            synchronized (this) {
                m = attentionMachine;
                if (m == null) {
                    attentionMachine = m = newMachine(List.of());
                }
            }
        }
        return m;
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

    /**
     * A machine with {@code weights} loaded (packed, copied to native memory or uploaded), which runs the plans
     * of one model; called once the backend is available and supports the model.
     */
    protected abstract Machine newMachine(List<PackedWeight> weights);

    @Override
    public String toString() {
        return name();
    }
}
