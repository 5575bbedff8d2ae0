package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.Backends;
import dev.mmca.parity.Precision;
import dev.mmca.workload.Workload;
import java.util.Locale;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ONNX Runtime on the ONNX models this module writes, at the benchmark structures' small sizes: the peer
 * itself computes SPEC's function (against the float64 reference), and every available backend of ours
 * agrees with it as with libtorch. ONNX Runtime is a real dependency: these tests fail rather than skip.
 */
class OnnxRuntimeOracleTest {
    private static final long SEED = 4321;

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmca.bench.PeerOracleCases#smallWorkloads")
    void onnxRuntimePeerMatchesTheFloat64Reference(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        float[] ort;
        try (OrtRunner peer = new OrtRunner(data, 2)) {
            peer.run();
            ort = peer.result();
        }
        double err = PeerOracleCases.errorVsReference(w, data, ort);
        assertTrue(err < Precision.FP32.relativeTolerance(), String.format(Locale.ROOT,
                "onnxruntime vs float64 reference on %s: relative error %.3e, expected < 1e-5", w, err));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("dev.mmca.bench.PeerOracleCases#backendsAndWorkloads")
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
