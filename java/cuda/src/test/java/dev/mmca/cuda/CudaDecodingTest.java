package dev.mmca.cuda;

import dev.mmca.testing.DecodingChecks;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Incremental decoding on the GPU (device-resident context and cache) equals the full forward (GPU only). */
class CudaDecodingTest {
    @BeforeEach
    void needsGpu() {
        GpuTestSupport.assumeGpu();
    }

    static Stream<DecodingChecks.Case> cases() {
        return DecodingChecks.cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stepsEqualTheForward(DecodingChecks.Case c) {
        DecodingChecks.stepsEqualTheForward(CudaBackend.withPrecision(CudaPrecision.FP32), c);
    }

    @Test
    void rollbackRecomputesTheSameRows() {
        DecodingChecks.rollbackRecomputesTheSameRows(CudaBackend.withPrecision(CudaPrecision.FP32));
    }

    @Test
    void refusalsAndGrowth() throws Exception {
        DecodingChecks.refusalsAndGrowth(CudaBackend.withPrecision(CudaPrecision.FP32));
    }
}
