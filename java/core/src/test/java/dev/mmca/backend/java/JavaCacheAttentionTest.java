package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.parity.Precision;
import dev.mmca.plan.CacheAttentionCase;
import java.util.List;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Attention over a partly filled cache (key lengths, causal positions; one-query steps split into key chunks)
 * on the Java machine, with each of its kernel sets, against the float64 interpretation of the plan.
 */
class JavaCacheAttentionTest {
    static Stream<CacheAttentionCase> cases() {
        return LongStream.range(0, 40).mapToObj(CacheAttentionCase::new);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void matchesTheFloat64Plan(CacheAttentionCase c) {
        for (JavaKernels kernels : KernelSets.all()) {
            JavaMachine m = new JavaMachine(List.of(), kernels);
            m.run(c.plan, c.io);
            FloatTensor out = c.io.tensor(c.out);
            double err = c.error(out);
            assertTrue(err <= Precision.FP32.relativeTolerance(),
                    kernels.name() + ", " + c + ": relative error " + err);
            float[] first = out.toArray();
            m.run(c.plan, c.io);
            assertArrayEquals(first, out.toArray(), kernels.name() + ": run to run");
        }
    }
}
