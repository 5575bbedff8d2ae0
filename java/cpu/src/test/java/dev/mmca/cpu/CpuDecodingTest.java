package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.TextSession;
import dev.mmca.VisualContext;
import dev.mmca.testing.DecodingChecks;
import dev.mmca.testing.RandomInputs;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Incremental decoding on the native CPU backend equals the full forward; rollback, growth and refusals. */
class CpuDecodingTest {
    static Stream<DecodingChecks.Case> cases() {
        return DecodingChecks.cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stepsEqualTheForward(DecodingChecks.Case c) {
        DecodingChecks.stepsEqualTheForward(new CpuBackend(), c);
    }

    @Test
    void rollbackRecomputesTheSameRows() {
        DecodingChecks.rollbackRecomputesTheSameRows(new CpuBackend());
    }

    @Test
    void refusalsAndGrowth() throws Exception {
        DecodingChecks.refusalsAndGrowth(new CpuBackend());
    }

    @Test
    void contextsAndSessionsFreeTheirNativeMemory() {
        MmcaConfig c = MmcaConfig.builder().dim(64).heads(4).kvHeads(2).dimHead(16).build();
        FloatTensor v = RandomInputs.normal(1, 2, 9, 64);
        FloatTensor t = RandomInputs.normal(2, 2, 3, 64);
        try (SimpleMmca model = SimpleMmca.create(c, MmcaWeights.random(c, 3), new CpuBackend())) {
            Runnable cycle = () -> {
                try (VisualContext ctx = model.encodeVisual(v, null); TextSession s = model.newTextSession(ctx, 50)) {
                    s.append(t, null);
                }
            };
            // warm up until the JVM's own native memory (compiler arenas, GC structures) settles
            for (int i = 0; i < 16000; i++) {
                cycle.run();
            }
            // A cycle holds 51 kB of cache and 4.6 kB of context keys and values: leaking either shows as 18 MB or
            // more in every window of 4000 cycles (NativeMallocWindows: the quietest of three is judged).
            NativeMallocWindows windows = new NativeMallocWindows(4000, cycle);
            assertTrue(windows.quietest < 4 << 20, "native malloc in use grew in every window of 4000 cycles, by "
                    + windows);
        }
    }
}
