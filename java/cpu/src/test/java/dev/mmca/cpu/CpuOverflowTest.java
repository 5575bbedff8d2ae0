package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.mmca.NumericOverflowException;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.testing.OverflowChecks;
import org.junit.jupiter.api.Test;

/** Overflow of float32 from finite inputs is an error naming where, on the CPU backend as on the Java one. */
class CpuOverflowTest {
    @Test
    void scaledTokensAreRefusedAsOnTheJavaBackend() {
        NumericOverflowException cpu = OverflowChecks.scaledTokensAreRefused(new CpuBackend());
        NumericOverflowException java = OverflowChecks.scaledTokensAreRefused(JavaBackend.instance());
        assertEquals(java.getMessage(), cpu.getMessage(), "the same error, the same place");
    }

    @Test
    void aRowWhoseEveryVisibleScoreIsMinusInfinityIsRefusedOnEveryKernelPath() {
        CpuTesting.requireNative();
        CpuBackend cpu = new CpuBackend();
        CpuTesting.onEveryIsa(() -> {
            OverflowChecks.scoresOverflowingDownwardsAreRefused(cpu::attention, false);
            OverflowChecks.harmlessInfiniteScoresStillCompute(cpu::attention);
            try (CpuMachine m = new CpuMachine(java.util.List.of())) {
                OverflowChecks.cacheRowsOverflowingDownwardsAreRefused(m);
            }
        });
    }

    @Test
    void hugeWeightIsRefused() {
        OverflowChecks.hugeWeightIsRefused(new CpuBackend());
    }
}
