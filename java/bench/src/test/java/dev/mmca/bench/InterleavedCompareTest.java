package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.backend.InterleavedProblem;
import dev.mmca.parity.Reference64;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The interleaved comparison's three ways on a short sequence: libtorch's two masked SDPA calls and our two plain
 * calls compute the float64 oracle's function, so the timings compare equal results; the command runs and agrees.
 */
class InterleavedCompareTest {
    @Test
    void everyRunnerComputesTheOraclesFunction() {
        for (dev.mmca.ImageAttention rule : dev.mmca.ImageAttention.values()) {
            InterleavedProblem p = InterleavedCompare.problem(InterleavedCompare.SMALL_ROWS, rule);
            FloatTensor[] in = InterleavedCompare.inputs(p, 7);
            double[][][] ref = Reference64.interleavedAttention(p, in[0], in[1], in[2]);
            dev.mmca.backend.Backend javaBackend = dev.mmca.backend.java.JavaBackend.instance();
            java.util.List<Runner> runners = new java.util.ArrayList<>(java.util.List.of(
                    new InterleavedCompare.TorchTwoSdpa(p, in), new InterleavedCompare.Fused(javaBackend, p, in)));
            if (rule == dev.mmca.ImageAttention.SELF) {
                runners.add(new InterleavedCompare.TwoCalls(javaBackend, p, in, true));
                runners.add(new InterleavedCompare.TwoCalls(javaBackend, p, in, false));
            }
            for (Runner r : runners) {
                try (r) {
                    r.run();
                    float[] got = r.result();
                    double err = Reference64.relativeError(FloatTensor.of(got, p.batch(), p.tokens(), p.heads()
                            * p.dimHead()), ref);
                    assertTrue(err <= 1e-5, rule + " " + r.name() + ": relative error " + err);
                }
            }
        }
    }

    @Test
    void theSmallComparisonRunsAndAgrees() {
        InterleavedCompare.Options o = InterleavedCompare.Options.parse(new String[] {"--small", "--reps", "2",
            "--min-seconds", "0", "--threads", "2"});
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = InterleavedCompare.run(o, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, text);
        assertTrue(text.contains("libtorch 2x SDPA") && text.contains("fused java") && text.contains("two calls java"),
                text);
        assertTrue(text.contains("Load average"), text);
    }
}
