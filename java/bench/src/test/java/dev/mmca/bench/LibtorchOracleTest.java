package dev.mmca.bench;

import dev.mmca.workload.Workload;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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

    static Stream<Workload> smallWorkloads() {
        List<Workload> all = new ArrayList<>(Workload.small());
        // Not among the benchmark shapes, but the one path of the peer they do not reach:
        // causal attention with N != M, where SDPA's is_causal would align the mask differently.
        all.add(Workload.attention("causal-N<M", 2, 8, 2, 5, 9, 64, true));
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("smallWorkloads")
    void libtorchPeerMatchesTheFloat64Reference(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        float[] torch;
        try (TorchRunner peer = new TorchRunner(data)) {
            peer.run();
            torch = peer.result();
        }
        double err;
        if (w.kind() == Workload.Kind.FORWARD) {
            Reference64.Output ref = Reference64.simpleMmca(w.config(), data.weights(), data.visual(), data.text(),
                    null, null);
            int visualSize = data.visual().size();
            float[] vis = new float[visualSize];
            float[] txt = new float[torch.length - visualSize];
            System.arraycopy(torch, 0, vis, 0, vis.length);
            System.arraycopy(torch, visualSize, txt, 0, txt.length);
            double ev = Reference64.relativeError(FloatTensor.of(vis, data.visual().shape()), ref.visual);
            double et = Reference64.relativeError(FloatTensor.of(txt, data.text().shape()), ref.text);
            err = Math.max(ev, et);
        } else {
            double[][][] ref = Reference64.attention(w.problem(), data.q(), data.k(), data.v());
            err = Reference64.relativeError(FloatTensor.of(torch, data.q().shape()), ref);
        }
        assertTrue(err < Precision.FP32.relativeTolerance(), String.format(Locale.ROOT,
                "libtorch vs float64 reference on %s: relative error %.3e, expected < 1e-5", w, err));
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
