package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.Backends;
import dev.mmca.parity.Precision;
import dev.mmca.workload.Workload;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * libtorch as an oracle, on the benchmark workloads' structures at small sizes: first libtorch is
 * checked against the float64 reference (so the peer itself computes SPEC's function), then every
 * available backend of ours is checked against libtorch. libtorch is a real dependency of this
 * module: if it cannot load, these tests fail rather than skip.
 */
class LibtorchOracleTest {
    private static final long SEED = 1234;

    @Test
    void libtorchLoadsOnThisHost() {
        assertDoesNotThrow(TorchPeer::load);
        assertTrue(TorchPeer.threads() >= 1, "libtorch reports at least one thread");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmca.bench.PeerOracleCases#smallWorkloads")
    void libtorchPeerMatchesTheFloat64Reference(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        float[] torch;
        try (TorchRunner peer = new TorchRunner(data)) {
            peer.run();
            torch = peer.result();
        }
        double err = PeerOracleCases.errorVsReference(w, data, torch);
        assertTrue(err < Precision.FP32.relativeTolerance(), String.format(Locale.ROOT,
                "libtorch vs float64 reference on %s: relative error %.3e, expected < 1e-5", w, err));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("dev.mmca.bench.PeerOracleCases#backendsAndWorkloads")
    void ourBackendAgreesWithLibtorch(String backend, Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        float[] ours;
        float[] torch;
        try (BackendRunner r = new BackendRunner(Backends.byName(backend), data);
                TorchRunner peer = new TorchRunner(data)) {
            r.run();
            peer.run();
            ours = r.result();
            torch = peer.result();
        }
        double err = RelativeError.of(ours, torch);
        assertTrue(err <= Compare.TOLERANCE, String.format(Locale.ROOT,
                "%s vs libtorch on %s: relative error %.3e, expected <= %.0e", backend, w, err, Compare.TOLERANCE));
    }
}
