package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.parity.Precision;
import dev.mmca.plan.CacheAttentionCase;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attention over a partly filled cache (key lengths, causal positions; one-query steps split into key chunks)
 * on the CPU machine, every kernel path, against the float64 interpretation of the plan; bit-identical for
 * any thread count.
 */
class CpuCacheAttentionTest {
    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (String isa : CpuTesting.runnableIsas()) {
            for (long seed = 0; seed < 24; seed++) {
                all.add(Arguments.of(isa, new CacheAttentionCase(seed)));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesTheFloat64Plan(String isa, CacheAttentionCase c) {
        String before = CpuRuntime.isa();
        int threads = CpuRuntime.threads();
        CpuRuntime.setIsa(isa);
        try (CpuMachine m = new CpuMachine(List.of())) {
            m.run(c.plan, c.io);
            FloatTensor out = c.io.tensor(c.out);
            double err = c.error(out);
            assertTrue(err <= Precision.FP32.relativeTolerance(), isa + " " + c + ": relative error " + err);
            float[] first = out.toArray();
            CpuRuntime.setThreads(1);
            m.run(c.plan, c.io);
            assertArrayEquals(first, out.toArray(), "1 thread vs " + threads);
        } finally {
            CpuRuntime.setThreads(threads);
            CpuRuntime.setIsa(before);
        }
    }
}
