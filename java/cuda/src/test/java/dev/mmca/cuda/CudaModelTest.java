package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;
import dev.mmca.SimpleMmca;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Reference64;
import dev.mmca.testkit.ParityAssertions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SimpleMMCA forward on the GPU against the float64 oracle; memory and determinism (GPU only). */
class CudaModelTest {
    @BeforeEach
    void needsGpu() {
        GpuTestSupport.assumeGpu();
    }

    static Stream<Arguments> configs() {
        List<Arguments> list = new ArrayList<>();
        for (CudaPrecision p : CudaPrecision.values()) {
            list.add(Arguments.of(p, MmcaConfig.builder().dim(48).heads(4).kvHeads(2).dimHead(32).build(), 19, 23));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(40).heads(6).kvHeads(3).dimHead(80).qkNorm(true)
                    .headMapping(HeadMapping.GROUPED).build(), 31, 12));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(64).heads(4).kvHeads(1).dimHead(64)
                    .composition(Composition.SEED).causal(true).build(), 21, 21));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(32).heads(2).kvHeads(2).dimHead(128)
                    .composition(Composition.SEED).build(), 17, 17));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1} Nv={2} Nt={3}")
    @MethodSource("configs")
    void forwardMatchesTheFloat64Oracle(CudaPrecision precision, MmcaConfig config, int nv, int nt) {
        int b = 2;
        MmcaWeights w = MmcaWeights.random(config, 42);
        FloatTensor v = RandomInputs.normal(1, b, nv, config.dim());
        FloatTensor t = RandomInputs.direct(RandomInputs.normal(2, b, nt, config.dim()));
        Mask vm = RandomInputs.randomLengths(3, b, nv, 1);
        Mask tm = RandomInputs.randomLengths(4, b, nt, 1);
        SimpleMmcaPlan plan = SimpleMmcaPlan.of(config);
        try (CudaMachine machine = (CudaMachine) CudaBackend.withPrecision(precision).newMachine(plan.packWeights(w))) {
            FloatTensor vo = FloatTensor.zeros(b, nv, config.dim());
            FloatTensor to = FloatTensor.allocateDirect(b, nt, config.dim());
            Arrays.fill(vo.array(), Float.NaN);
            for (int i = 0; i < to.size(); i++) {
                to.set(i, Float.NaN);
            }
            machine.poisonWorkspaceForTesting(true);  // device intermediates start as NaN too
            SimpleMmcaPlan.Forward f = plan.forward(b, nv, nt, true, true);
            machine.run(f.plan, new PlanIo().tensor(f.visual, v).tensor(f.text, t).mask(f.visualMask, vm)
                    .mask(f.textMask, tm).tensor(f.visualOut, vo).tensor(f.textOut, to));
            Reference64.Output ref = Reference64.simpleMmca(config, w, v, t, vm, tm);
            ParityAssertions.assertWithin(precision + " visual", vo, ref.visual, CudaKernelPaths.precisionOf(precision));
            ParityAssertions.assertWithin(precision + " text", to, ref.text, CudaKernelPaths.precisionOf(precision));
        }
    }

    @Test
    void deviceMemoryReturnsToItsStartingLevelAfterClose() {
        MmcaConfig config = MmcaConfig.builder().dim(512).heads(8).kvHeads(2).dimHead(64).build();
        MmcaWeights w = MmcaWeights.random(config, 7);
        FloatTensor v = RandomInputs.normal(1, 2, 512, 512);
        FloatTensor t = RandomInputs.normal(2, 2, 384, 512);
        CudaBackend backend = CudaBackend.withPrecision(CudaPrecision.FP32);
        // First cycle: loads kernels and library state lazily, which stays resident by design.
        try (SimpleMmca model = SimpleMmca.create(config, w, backend)) {
            model.forward(v, t);
        }
        long before = GpuTestSupport.freeDeviceBytes();
        try (SimpleMmca model = SimpleMmca.create(config, w, backend)) {
            model.forward(v, t);
            long during = GpuTestSupport.freeDeviceBytes();
            assertTrue(during < before, "weights and workspace live on the device while open");
        }
        long after = GpuTestSupport.freeDeviceBytes();
        assertEquals(before, after, "free device memory before create vs after close");
    }

    @Test
    void forwardIsDeterministicAndThreadSafe() throws Exception {
        MmcaConfig config = MmcaConfig.builder().dim(96).heads(8).kvHeads(2).dimHead(64).build();
        MmcaWeights w = MmcaWeights.random(config, 8);
        FloatTensor v = RandomInputs.normal(1, 3, 40, 96);
        FloatTensor t = RandomInputs.normal(2, 3, 50, 96);
        try (SimpleMmca model = SimpleMmca.create(config, w, CudaBackend.withPrecision(CudaPrecision.FP32))) {
            float[] first = model.forward(v, t).text().toArray();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> runs = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    runs.add(pool.submit(() -> model.forward(v, t).text().toArray()));
                }
                for (Future<float[]> f : runs) {
                    assertArrayEquals(first, f.get(), "same input, same bits");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void deviceTensorForwardMatchesTheHostForwardBitForBit() {
        MmcaConfig config = MmcaConfig.builder().dim(64).heads(4).kvHeads(2).dimHead(64).build();
        MmcaWeights w = MmcaWeights.random(config, 5);
        int b = 2;
        int nv = 33;
        int nt = 27;
        FloatTensor v = RandomInputs.normal(1, b, nv, 64);
        FloatTensor t = RandomInputs.normal(2, b, nt, 64);
        Mask tm = RandomInputs.randomLengths(3, b, nt, 4);
        float[] hostText;
        float[] hostVisual;
        try (SimpleMmca host = SimpleMmca.create(config, w, CudaBackend.withPrecision(CudaPrecision.FP32))) {
            dev.mmca.MmcaOutput o = host.forward(v, t, null, tm);
            hostText = o.text().toArray();
            hostVisual = o.visual().toArray();
        }
        try (CudaDeviceModel model = CudaDeviceModel.create(config, w, CudaPrecision.FP32);
                DeviceTensors dev = new DeviceTensors(CudaDtype.F32)) {
            long vo = dev.poisonedOutput((long) b * nv * 64);
            long to = dev.poisonedOutput((long) b * nt * 64);
            model.forward(b, nv, nt, dev.input(v), dev.input(t), 0, dev.mask(tm), vo, to, 0L);
            assertArrayEquals(hostVisual, dev.read(vo, b, nv, 64).toArray());
            assertArrayEquals(hostText, dev.read(to, b, nt, 64).toArray());
        }
    }

    @Test
    void useAfterCloseIsAnError() {
        MmcaConfig config = MmcaConfig.builder().dim(32).heads(2).dimHead(32).build();
        SimpleMmca model = SimpleMmca.create(config, MmcaWeights.random(config, 1), CudaBackend.withPrecision(
                CudaPrecision.FP32));
        model.close();
        model.close();  // idempotent
        assertThrows(IllegalStateException.class,
                () -> model.forward(RandomInputs.normal(1, 1, 3, 32), RandomInputs.normal(2, 1, 3, 32)));
    }

    @Test
    void aRowWhoseEveryVisibleScoreIsMinusInfinityIsRefused() {
        CudaBackend gpu = CudaBackend.withPrecision(CudaPrecision.FP32);
        dev.mmca.testing.OverflowChecks.scoresOverflowingDownwardsAreRefused(gpu::attention, true);
        dev.mmca.testing.OverflowChecks.harmlessInfiniteScoresStillCompute(gpu::attention);
    }

    @Test
    void overflowIsRefused() {
        dev.mmca.NumericOverflowException e = dev.mmca.testing.OverflowChecks.scaledTokensAreRefused(
                CudaBackend.withPrecision(CudaPrecision.FP32));
        assertTrue(e.getMessage().startsWith("cuda: the result overflowed float32 at"), e.getMessage());
        dev.mmca.testing.OverflowChecks.hugeWeightIsRefused(CudaBackend.withPrecision(CudaPrecision.FP32));
    }
}
