package dev.mmca.bench;

import dev.mmca.workload.Workload;
import dev.mmca.FloatTensor;
import dev.mmca.MmcaWeights;
import java.util.SplittableRandom;

/**
 * Seeded inputs of one {@link Workload}, in heap tensors: weights and the two token streams of a
 * forward or of decoding, or q, k and v of an attention call. Every runner (ours and the peer) starts from these,
 * so outputs can be compared value by value.
 */
public final class WorkloadData {
    private final Workload workload;
    private final MmcaWeights weights;
    private final FloatTensor visual;
    private final FloatTensor text;
    private final FloatTensor q;
    private final FloatTensor k;
    private final FloatTensor v;

    private WorkloadData(Workload workload, MmcaWeights weights, FloatTensor visual, FloatTensor text,
            FloatTensor q, FloatTensor k, FloatTensor v) {
        this.workload = workload;
        this.weights = weights;
        this.visual = visual;
        this.text = text;
        this.q = q;
        this.k = k;
        this.v = v;
    }

    /** Standard-normal activations, and PyTorch's default {@code nn.Linear} weights, from {@code seed}. */
    public static WorkloadData generate(Workload w, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        if (w.kind() != Workload.Kind.ATTENTION) {
            MmcaWeights weights = MmcaWeights.random(w.config(), r.nextLong());
            FloatTensor visual = normal(r, w.batch(), w.visualTokens(), w.dim());
            FloatTensor text = normal(r, w.batch(), w.textTokens(), w.dim());
            return new WorkloadData(w, weights, visual, text, null, null, null);
        }
        int hd = w.heads() * w.dimHead();
        int gd = w.kvHeads() * w.dimHead();
        FloatTensor q = normal(r, w.batch(), w.queries(), hd);
        FloatTensor k = normal(r, w.batch(), w.keys(), gd);
        FloatTensor v = normal(r, w.batch(), w.keys(), gd);
        return new WorkloadData(w, null, null, null, q, k, v);
    }

    private static FloatTensor normal(SplittableRandom r, int... shape) {
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] data = new float[Math.toIntExact(n)];
        // Box-Muller: two standard normals from two uniforms.
        for (int i = 0; i < data.length; i += 2) {
            double u1 = 1.0 - r.nextDouble();
            double u2 = r.nextDouble();
            double radius = Math.sqrt(-2.0 * Math.log(u1));
            data[i] = (float) (radius * Math.cos(2 * Math.PI * u2));
            if (i + 1 < data.length) {
                data[i + 1] = (float) (radius * Math.sin(2 * Math.PI * u2));
            }
        }
        return FloatTensor.of(data, shape);
    }

    /**
     * DECODE: the same weights and tokens as a FORWARD workload over the whole text at once, whose text output rows
     * are what every decoding step must reproduce (SPEC "Incremental text decoding").
     */
    public WorkloadData asForward() {
        if (workload.kind() != Workload.Kind.DECODE) {
            throw new IllegalStateException("workload " + workload.name() + " is " + workload.kind() + ", not DECODE");
        }
        Workload w = workload;
        Workload forward = Workload.forward(w.name() + ".forward", w.batch(), w.visualTokens(), w.textTokens(), w.dim(),
                w.heads(), w.kvHeads(), w.dimHead(), w.causal());
        return new WorkloadData(forward, weights, visual, text, null, null, null);
    }

    public Workload workload() { return workload; }
    public MmcaWeights weights() { return weights; }
    public FloatTensor visual() { return visual; }
    public FloatTensor text() { return text; }
    public FloatTensor q() { return q; }
    public FloatTensor k() { return k; }
    public FloatTensor v() { return v; }

    /** A direct (off-heap, native-order) copy of {@code t}, for backends that read native memory in place. */
    public static FloatTensor direct(FloatTensor t) {
        FloatTensor d = FloatTensor.allocateDirect(t.shape());
        float[] a = t.toArray();
        d.copyFrom(a, 0);
        return d;
    }
}
