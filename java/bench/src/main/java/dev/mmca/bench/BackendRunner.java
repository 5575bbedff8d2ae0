package dev.mmca.bench;

import dev.mmca.workload.Workload;
import dev.mmca.FloatTensor;
import dev.mmca.MmcaInputs;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;

/**
 * Runs a workload on one of our backends through the public API: {@link SimpleMmca#forwardInto} for
 * a forward, {@link Backend#attention} for an attention call. Outputs are allocated once. The pure-Java
 * backend gets heap tensors (which it uses in place); every other backend gets direct buffers (which
 * native code reads in place), so neither pays a copy a real caller would avoid.
 */
public final class BackendRunner implements Runner {
    private final Backend backend;
    private final Workload workload;
    private final SimpleMmca model;
    private final MmcaInputs inputs;
    private final AttentionProblem problem;
    private final FloatTensor q;
    private final FloatTensor k;
    private final FloatTensor v;
    private final FloatTensor out;
    private final FloatTensor visualOut;
    private final FloatTensor textOut;

    public BackendRunner(Backend backend, WorkloadData data) {
        this.backend = backend;
        this.workload = data.workload();
        boolean heap = backend.name().equals("java");
        if (workload.kind() == Workload.Kind.FORWARD) {
            FloatTensor vis = heap ? data.visual() : WorkloadData.direct(data.visual());
            FloatTensor txt = heap ? data.text() : WorkloadData.direct(data.text());
            this.inputs = new MmcaInputs(vis, txt, null, null);
            this.visualOut = allocate(heap, vis.shape());
            this.textOut = allocate(heap, txt.shape());
            this.model = SimpleMmca.create(workload.config(), data.weights(), backend);
            this.problem = null;
            this.q = null;
            this.k = null;
            this.v = null;
            this.out = null;
        } else {
            this.problem = workload.problem();
            this.q = heap ? data.q() : WorkloadData.direct(data.q());
            this.k = heap ? data.k() : WorkloadData.direct(data.k());
            this.v = heap ? data.v() : WorkloadData.direct(data.v());
            this.out = allocate(heap, data.q().shape());
            this.model = null;
            this.inputs = null;
            this.visualOut = null;
            this.textOut = null;
        }
    }

    private static FloatTensor allocate(boolean heap, int[] shape) {
        return heap ? FloatTensor.zeros(shape) : FloatTensor.allocateDirect(shape);
    }

    @Override
    public String name() {
        return backend.name();
    }

    @Override
    public void run() {
        if (model != null) {
            model.forwardInto(inputs, visualOut, textOut);
        } else {
            backend.attention(problem, q, k, v, out);
        }
    }

    @Override
    public float[] result() {
        if (model == null) {
            return out.toArray();
        }
        float[] all = new float[visualOut.size() + textOut.size()];
        visualOut.copyTo(all, 0);
        textOut.copyTo(all, visualOut.size());
        return all;
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
        }
    }
}
