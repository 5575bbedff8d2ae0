package dev.mmca.bench;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.parity.Reference64;
import dev.mmca.workload.Workload;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/** What the peer oracle tests (libtorch, ONNX Runtime) share: their cases and the check against the float64 reference. */
final class PeerOracleCases {
    private PeerOracleCases() {
    }

    /**
     * The benchmark structures at their small sizes, plus causal attention with N != M: not among the benchmark
     * shapes, but the one path of a peer they do not reach (SDPA's is_causal aligns that mask differently).
     */
    static Stream<Workload> smallWorkloads() {
        List<Workload> all = new ArrayList<>(Workload.small());
        all.add(Workload.attention("causal-N<M", 2, 8, 2, 5, 9, 64, true));
        return all.stream();
    }

    /** Every available backend of ours with every small benchmark workload. */
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

    /**
     * The relative error of a peer's output for {@code w} against the float64 reference: a forward's visual and
     * text outputs (side by side in {@code out}) each, the worse of the two; an attention call's output.
     */
    static double errorVsReference(Workload w, WorkloadData data, float[] out) {
        if (w.kind() == Workload.Kind.FORWARD) {
            Reference64.Output ref = Reference64.simpleMmca(w.config(), data.weights(), data.visual(), data.text(),
                    null, null);
            int visualSize = data.visual().size();
            float[] vis = Arrays.copyOfRange(out, 0, visualSize);
            float[] txt = Arrays.copyOfRange(out, visualSize, out.length);
            return Math.max(Reference64.relativeError(FloatTensor.of(vis, data.visual().shape()), ref.visual),
                    Reference64.relativeError(FloatTensor.of(txt, data.text().shape()), ref.text));
        }
        double[][][] ref = Reference64.attention(w.problem(), data.q(), data.k(), data.v());
        return Reference64.relativeError(FloatTensor.of(out, data.q().shape()), ref);
    }
}
