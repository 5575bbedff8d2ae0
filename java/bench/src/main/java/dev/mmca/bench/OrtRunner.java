package dev.mmca.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.mmca.FloatTensor;
import dev.mmca.bench.onnx.MmcaOnnx;
import dev.mmca.workload.Workload;
import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * The second peer: ONNX Runtime's Java API (CPU execution provider) on the workload exported as an ONNX model
 * ({@link MmcaOnnx}, generated here from the same weights), configured as a user would tune it: graph
 * optimisation level ALL, intra-op threads equal to ours, one inter-op thread, spinning off (so its idle
 * workers do not take the cores from the runner timed next).
 */
public final class OrtRunner implements Runner {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    private final OrtSession session;
    private final Map<String, OnnxTensor> inputs = new HashMap<>();
    private OrtSession.Result last;

    public OrtRunner(WorkloadData data, int threads) {
        Workload w = data.workload();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.addConfigEntry("session.intra_op.allow_spinning", "0");
            opts.addConfigEntry("session.inter_op.allow_spinning", "0");
            session = ENV.createSession(MmcaOnnx.model(data), opts);
            String[] names = MmcaOnnx.inputNames(w);
            FloatTensor[] values = w.kind() == Workload.Kind.FORWARD ? new FloatTensor[] {data.visual(), data.text()}
                    : new FloatTensor[] {data.q(), data.k(), data.v()};
            for (int i = 0; i < names.length; i++) {
                FloatTensor t = WorkloadData.direct(values[i]);
                long[] shape = new long[t.rank()];
                for (int a = 0; a < shape.length; a++) {
                    shape[a] = t.dim(a);
                }
                inputs.put(names[i], OnnxTensor.createTensor(ENV, t.buffer(), shape));
            }
        } catch (OrtException e) {
            close();
            throw new IllegalStateException("onnxruntime: could not create the session: " + e.getMessage(), e);
        }
    }

    /** The ONNX Runtime version in use. */
    public static String version() {
        return ENV.getVersion();
    }

    @Override
    public String name() {
        return "onnxruntime";
    }

    @Override
    public void run() {
        if (last != null) {
            last.close();
            last = null;
        }
        try {
            last = session.run(inputs);
        } catch (OrtException e) {
            throw new IllegalStateException("onnxruntime: run failed: " + e.getMessage(), e);
        }
    }

    @Override
    public float[] result() {
        if (last == null) {
            throw new IllegalStateException("result() before run()");
        }
        int total = 0;
        FloatBuffer[] parts = new FloatBuffer[last.size()];
        for (int i = 0; i < parts.length; i++) {
            parts[i] = ((OnnxTensor) last.get(i)).getFloatBuffer();
            total += parts[i].remaining();
        }
        float[] all = new float[total];
        int at = 0;
        for (FloatBuffer p : parts) {
            int n = p.remaining();
            p.get(all, at, n);
            at += n;
        }
        return all;
    }

    @Override
    public void close() {
        if (last != null) {
            last.close();
            last = null;
        }
        inputs.values().forEach(OnnxTensor::close);
        inputs.clear();
        if (session != null) {
            try {
                session.close();
            } catch (OrtException e) {
                throw new IllegalStateException("onnxruntime: close failed: " + e.getMessage(), e);
            }
        }
    }
}
