package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.workload.Workload;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX Runtime on the ONNX models this module writes, at the benchmark structures' small sizes: the peer
 * itself computes SPEC's function (against the float64 reference), and every available backend of ours
 * agrees with it as with libtorch. ONNX Runtime is a real dependency: these tests fail rather than skip.
 */
class OnnxRuntimeOracleTest {
    private static final long SEED = 4321;

    static Stream<Workload> smallWorkloads() {
        List<Workload> all = new ArrayList<>(Workload.small());
        all.add(Workload.attention("causal-N<M", 2, 8, 2, 5, 9, 64, true));
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallWorkloads")
    void onnxRuntimePeerMatchesTheFloat64Reference(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        float[] ort;
        try (OrtRunner peer = new OrtRunner(data, 2)) {
            peer.run();
            ort = peer.result();
        }
        double err;
        if (w.kind() == Workload.Kind.FORWARD) {
            Reference64.Output ref = Reference64.simpleMmca(w.config(), data.weights(), data.visual(), data.text(),
                    null, null);
            int visualSize = data.visual().size();
            float[] vis = java.util.Arrays.copyOfRange(ort, 0, visualSize);
            float[] txt = java.util.Arrays.copyOfRange(ort, visualSize, ort.length);
            err = Math.max(Reference64.relativeError(FloatTensor.of(vis, data.visual().shape()), ref.visual),
                    Reference64.relativeError(FloatTensor.of(txt, data.text().shape()), ref.text));
        } else {
            double[][][] ref = Reference64.attention(w.problem(), data.q(), data.k(), data.v());
            err = Reference64.relativeError(FloatTensor.of(ort, data.q().shape()), ref);
        }
        assertTrue(err < Precision.FP32.relativeTolerance(), String.format(Locale.ROOT,
                "onnxruntime vs float64 reference on %s: relative error %.3e, expected < 1e-5", w, err));
    }

    static Stream<Arguments> backendsAndWorkloads() {
        List<Arguments> cases = new ArrayList<>();
        for (Backend b : Backends.all()) {
            if (b.availability().isAvailable()) {
                for (Workload w : Workload.small()) {
                    cases.add(Arguments.of(b.name(), w));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("backendsAndWorkloads")
    void ourBackendAgreesWithOnnxRuntime(String backend, Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        float[] ours;
        float[] ort;
        try (BackendRunner r = new BackendRunner(Backends.byName(backend), data);
                OrtRunner peer = new OrtRunner(data, 2)) {
            r.run();
            peer.run();
            ours = r.result();
            ort = peer.result();
        }
        double err = RelativeError.of(ours, ort);
        assertTrue(err <= Compare.TOLERANCE, String.format(Locale.ROOT,
                "%s vs onnxruntime on %s: relative error %.3e, expected <= %.0e", backend, w, err, Compare.TOLERANCE));
    }
}
