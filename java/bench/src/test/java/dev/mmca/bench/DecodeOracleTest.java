package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.workload.Workload;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decoding peers of Compare's D1 at its small sizes: the libtorch cache loops compute SPEC's decoding (against
 * the float64 reference of the full forward, whose text rows every step must reproduce) and the same rows as our
 * pure-Java backend's session; re-running the forward per step does too; and every available backend's session
 * agrees with libtorch. Rolled-back last steps give the last row again.
 */
class DecodeOracleTest {
    private static final long SEED = 2024;

    static Stream<Arguments> cachesAndWorkloads() {
        List<Arguments> cases = new ArrayList<>();
        for (TorchKvCacheRunner.Cache c : TorchKvCacheRunner.Cache.values()) {
            for (Workload w : Workload.decodingSmall()) {
                cases.add(Arguments.of(c, w));
            }
        }
        return cases.stream();
    }

    private static Reference64.Output reference(WorkloadData data) {
        Workload w = data.workload();
        return Reference64.simpleMmca(w.config(), data.weights(), data.visual(), data.text(), null, null);
    }

    private static FloatTensor rows(DecodeRunner r, Workload w) {
        return FloatTensor.of(r.decodedRows(), w.batch(), w.textTokens(), w.dim());
    }

    private static float[] lastRow(float[] rows, Workload w) {
        int dim = w.dim();
        float[] last = new float[w.batch() * dim];
        for (int b = 0; b < w.batch(); b++) {
            System.arraycopy(rows, (b * w.textTokens() + w.textTokens() - 1) * dim, last, b * dim, dim);
        }
        return last;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cachesAndWorkloads")
    void libtorchCacheLoopMatchesTheFloat64ReferenceAndOurJavaSession(TorchKvCacheRunner.Cache cache, Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        Reference64.Output ref = reference(data);
        try (TorchKvCacheRunner peer = new TorchKvCacheRunner(data, cache);
                SessionDecodeRunner ours = new SessionDecodeRunner(Backends.byName("java"), data)) {
            peer.decodeSequence();
            ours.decodeSequence();
            assertArrayEquals(IntStream.range(0, w.textTokens()).toArray(), peer.decodedPositions());
            double vsReference = Reference64.relativeError(rows(peer, w), ref.text);
            assertTrue(vsReference < Precision.FP32.relativeTolerance(), String.format(Locale.ROOT,
                    "%s vs float64 reference on %s: relative error %.3e, expected < 1e-5", peer.name(), w, vsReference));
            double vsJava = RelativeError.of(peer.decodedRows(), ours.decodedRows());
            assertTrue(vsJava <= Compare.TOLERANCE, String.format(Locale.ROOT,
                    "%s vs the java session on %s: relative error %.3e, expected <= %.0e", peer.name(), w, vsJava,
                    Compare.TOLERANCE));

            // the timed call: the last step over the cache of every earlier token, rolled back, twice in a row
            float[] decodedLast = lastRow(peer.decodedRows(), w);
            for (int call = 0; call < 2; call++) {
                peer.lastStep();
                double e = RelativeError.of(lastRow(peer.decodedRows(), w), decodedLast);
                assertTrue(e <= Precision.FP32.reorderingTolerance(),
                        "last step " + call + " after a rollback: relative error " + e);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmca.workload.Workload#decodingSmall")
    void lastStepBeforeAnySequenceFillsTheCacheFirst(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        Reference64.Output ref = reference(data);
        try (TorchKvCacheRunner peer = new TorchKvCacheRunner(data, TorchKvCacheRunner.Cache.CONCATENATED);
                SessionDecodeRunner ours = new SessionDecodeRunner(Backends.byName("java"), data)) {
            for (DecodeRunner r : List.of(peer, ours)) {
                r.lastStep();
                assertEquals(w.textTokens(), r.decodedPositions().length, r.name() + " decoded every position");
                double e = Reference64.relativeError(rows(r, w), ref.text);
                assertTrue(e < Precision.FP32.relativeTolerance(),
                        r.name() + " vs float64 reference: relative error " + e);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmca.workload.Workload#decodingSmall")
    void rerunningTheForwardPerStepGivesTheSessionsRows(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        try (ForwardPerStepRunner rerun = new ForwardPerStepRunner(Backends.byName("java"), data);
                SessionDecodeRunner ours = new SessionDecodeRunner(Backends.byName("java"), data)) {
            assertEquals("java-forward-per-step", rerun.name());
            ours.decodeSequence();
            rerun.forwardAt(3);
            assertArrayEquals(new int[] {2}, rerun.decodedPositions(), "one forward keeps one row");
            rerun.decodeSequence();
            assertArrayEquals(IntStream.range(0, w.textTokens()).toArray(), rerun.decodedPositions());
            double e = RelativeError.of(rerun.decodedRows(), ours.decodedRows());
            assertTrue(e <= Compare.TOLERANCE, String.format(Locale.ROOT,
                    "forward per step vs the java session on %s: relative error %.3e, expected <= %.0e", w, e,
                    Compare.TOLERANCE));
            double vsReference = Reference64.relativeError(rows(rerun, w), reference(data).text);
            assertTrue(vsReference < Precision.FP32.relativeTolerance(),
                    "forward per step vs float64 reference: relative error " + vsReference);
            assertThrows(IllegalArgumentException.class, () -> rerun.forwardAt(w.textTokens() + 1));
            assertThrows(IllegalArgumentException.class, () -> rerun.forwardAt(0));
        }
    }

    static Stream<Arguments> backendsAndWorkloads() {
        List<Arguments> cases = new ArrayList<>();
        for (Backend b : Backends.all()) {
            if (b.availability().isAvailable()) {
                for (Workload w : Workload.decodingSmall()) {
                    cases.add(Arguments.of(b.name(), w));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("backendsAndWorkloads")
    void everyBackendsSessionAndForwardPerStepAgreeWithLibtorch(String backend, Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        Backend b = Backends.byName(backend);
        try (TorchKvCacheRunner peer = new TorchKvCacheRunner(data, TorchKvCacheRunner.Cache.PREALLOCATED);
                SessionDecodeRunner ours = new SessionDecodeRunner(b, data);
                ForwardPerStepRunner rerun = new ForwardPerStepRunner(b, data)) {
            peer.decodeSequence();
            ours.decodeSequence();
            rerun.decodeSequence();
            float[] expected = peer.decodedRows();
            for (DecodeRunner r : List.of(ours, rerun)) {
                double e = RelativeError.of(r.decodedRows(), expected);
                assertTrue(e <= Compare.TOLERANCE, String.format(Locale.ROOT,
                        "%s vs libtorch on %s: relative error %.3e, expected <= %.0e", r.name(), w, e,
                        Compare.TOLERANCE));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.mmca.workload.Workload#decodingSmall")
    void comparesCheckReadsOnlyTheDecodedPositions(Workload w) {
        WorkloadData data = WorkloadData.generate(w, SEED);
        try (TorchKvCacheRunner peer = new TorchKvCacheRunner(data, TorchKvCacheRunner.Cache.CONCATENATED);
                ForwardPerStepRunner rerun = new ForwardPerStepRunner(Backends.byName("java"), data)) {
            peer.decodeSequence();
            float[] expected = peer.decodedRows();
            rerun.forwardAt(2);
            rerun.lastStep();
            assertArrayEquals(new int[] {1, w.textTokens() - 1}, rerun.decodedPositions());
            assertTrue(Compare.decodedError(rerun, expected, w) <= Compare.TOLERANCE);
            int dim = w.dim();
            int lastBatchElement = (w.batch() - 1) * w.textTokens() * dim;
            float[] wrongElsewhere = expected.clone();
            Arrays.fill(wrongElsewhere, lastBatchElement, lastBatchElement + dim, 100f); // position 0: not decoded
            assertTrue(Compare.decodedError(rerun, wrongElsewhere, w) <= Compare.TOLERANCE);
            float[] wrongThere = expected.clone();
            Arrays.fill(wrongThere, lastBatchElement + dim, lastBatchElement + 2 * dim, 100f); // position 1
            assertTrue(Compare.decodedError(rerun, wrongThere, w) > 0.5, "a wrong decoded row is seen");
        }
    }

    @Test
    void runnersRefuseOtherKindsOfWorkload() {
        WorkloadData forward = WorkloadData.generate(Workload.small().get(1), SEED);
        for (TorchKvCacheRunner.Cache cache : TorchKvCacheRunner.Cache.values()) {
            assertThrows(IllegalArgumentException.class, () -> new TorchKvCacheRunner(forward, cache));
        }
        assertThrows(IllegalArgumentException.class,
                () -> new SessionDecodeRunner(Backends.byName("java"), forward));
        assertThrows(IllegalArgumentException.class,
                () -> new ForwardPerStepRunner(Backends.byName("java"), forward));
    }
}
