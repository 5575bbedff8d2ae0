package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Reference64;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The GPU machine (weight upload, workspace layout, element sizes, staging and conversion of 16-bit data,
 * the parameter blocks it writes, masks) run on a host stand-in of the device that computes in double
 * precision from NaN-filled memory: matching the float64 oracle shows the machine is right independently
 * of the kernels; runs without a GPU.
 */
class CudaMachineTest {
    static Stream<Arguments> cases() {
        List<Arguments> list = new ArrayList<>();
        for (CudaPrecision p : new CudaPrecision[] {CudaPrecision.FP32, CudaPrecision.BF16}) {
            list.add(Arguments.of(p, MmcaConfig.builder().dim(24).heads(4).kvHeads(2).dimHead(32).build(), 7, 9));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(20).heads(6).kvHeads(3).dimHead(16).qkNorm(true)
                    .headMapping(HeadMapping.GROUPED).build(), 11, 5));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(16).heads(4).kvHeads(1).dimHead(8)
                    .composition(Composition.SEED).causal(true).build(), 8, 8));
            list.add(Arguments.of(p, MmcaConfig.builder().dim(12).heads(2).dimHead(8)
                    .composition(Composition.SEED).build(), 6, 6));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1} Nv={2} Nt={3}")
    @MethodSource("cases")
    void hostTensorsGiveSimpleMmca(CudaPrecision precision, MmcaConfig config, int nv, int nt) {
        int b = 2;
        MmcaWeights w = MmcaWeights.random(config, 3);
        FloatTensor v = RandomInputs.normal(4, b, nv, config.dim());
        FloatTensor t = RandomInputs.direct(RandomInputs.normal(5, b, nt, config.dim()));
        Mask vm = RandomInputs.randomLengths(6, b, nv, 1);
        Mask tm = RandomInputs.randomLengths(7, b, nt, 1);
        SimpleMmcaPlan plan = SimpleMmcaPlan.of(config);
        HostDevice device = new HostDevice(precision.dtype());
        CudaMachine machine = new CudaMachine(plan.packWeights(w), precision, device);
        machine.poisonWorkspaceForTesting(true);
        FloatTensor vo = FloatTensor.zeros(b, nv, config.dim());
        FloatTensor to = FloatTensor.allocateDirect(b, nt, config.dim());
        SimpleMmcaPlan.Forward f = plan.forward(b, nv, nt, true, true);
        machine.run(f.plan, new PlanIo().tensor(f.visual, v).tensor(f.text, t).mask(f.visualMask, vm)
                .mask(f.textMask, tm).tensor(f.visualOut, vo).tensor(f.textOut, to));

        Reference64.Output ref = Reference64.simpleMmca(config, w, v, t, vm, tm);
        double ev = Reference64.relativeError(vo, ref.visual);
        double et = Reference64.relativeError(to, ref.text);
        assertTrue(ev <= 1e-6, "visual: relative error " + ev);
        assertTrue(et <= 1e-6, "text: relative error " + et);
        // one attention launch, one fused text launch, five GEMMs (one per input of the plan, two outputs)
        assertEquals(1, device.calls.stream().filter(c -> c.equals("attention")).count(), device.calls.toString());
        assertEquals(1, device.calls.stream().filter(c -> c.equals("text")).count(), device.calls.toString());
        assertEquals(5, device.calls.stream().filter(c -> c.startsWith("linear")).count(), device.calls.toString());
        machine.close();
        assertEquals(0, device.liveAllocations, "every allocation is freed by close");
    }

    @Test
    void deviceTensorsGiveTheSameBitsAsHostTensors() {
        MmcaConfig config = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(8).build();
        int b = 2;
        int nv = 5;
        int nt = 6;
        MmcaWeights w = MmcaWeights.random(config, 9);
        FloatTensor v = RandomInputs.normal(1, b, nv, 16);
        FloatTensor t = RandomInputs.normal(2, b, nt, 16);
        Mask tm = RandomInputs.randomLengths(3, b, nt, 2);
        SimpleMmcaPlan plan = SimpleMmcaPlan.of(config);
        HostDevice device = new HostDevice(CudaDtype.F32);
        CudaMachine machine = new CudaMachine(plan.packWeights(w), CudaPrecision.FP32, device);
        SimpleMmcaPlan.Forward f = plan.forward(b, nv, nt, false, true);
        FloatTensor vo = FloatTensor.zeros(b, nv, 16);
        FloatTensor to = FloatTensor.zeros(b, nt, 16);
        machine.run(f.plan, new PlanIo().tensor(f.visual, v).tensor(f.text, t).mask(f.textMask, tm)
                .tensor(f.visualOut, vo).tensor(f.textOut, to));

        Map<Buffer, Long> at = new IdentityHashMap<>();
        at.put(f.visual, device.allocate(4L * v.size()));
        at.put(f.text, device.allocate(4L * t.size()));
        at.put(f.textMask, device.allocate(tm.bytesView().length));
        at.put(f.visualOut, device.allocate(4L * vo.size()));
        at.put(f.textOut, device.allocate(4L * to.size()));
        device.copyToDevice(at.get(f.visual), v);
        device.copyToDevice(at.get(f.text), t);
        device.copyToDevice(at.get(f.textMask), tm.bytesView());
        machine.runOnDevice(f.plan, at, 0x1234L);
        FloatTensor vd = FloatTensor.zeros(b, nv, 16);
        FloatTensor td = FloatTensor.zeros(b, nt, 16);
        device.copyToHost(vd, at.get(f.visualOut));
        device.copyToHost(td, at.get(f.textOut));
        assertArrayEquals(vo.toArray(), vd.toArray());
        assertArrayEquals(to.toArray(), td.toArray());
    }

    /** Incremental decoding through the GPU machine (state memory, cache rows, lengths, positions). */
    @Test
    void decodingStepsEqualTheForward() {
        for (CudaPrecision precision : new CudaPrecision[] {CudaPrecision.FP32, CudaPrecision.BF16}) {
            dev.mmca.testing.DecodingChecks.Case c = dev.mmca.testing.DecodingChecks.cases().get(1);
            dev.mmca.backend.Backend host = new HostBackend(precision);
            dev.mmca.testing.DecodingChecks.stepsEqualTheForward(host, c);
            dev.mmca.testing.DecodingChecks.rollbackRecomputesTheSameRows(host);
        }
    }

    /**
     * A projection that overflows float32 is refused, not returned as infinities (the host stand-in stores float32
     * results; its attention runs in double, so overflowed scores are left to the GPU tests).
     */
    @Test
    void overflowIsRefused() {
        dev.mmca.testing.OverflowChecks.hugeWeightIsRefused(new HostBackend(CudaPrecision.FP32));
    }

    /** A backend whose machine is the GPU machine over the host stand-in of the device. */
    static final class HostBackend extends dev.mmca.backend.Backend {
        private final CudaPrecision precision;

        HostBackend(CudaPrecision precision) {
            this.precision = precision;
        }

        @Override public String name() { return "cuda-on-host"; }
        @Override public int priority() { return -1; }
        @Override public dev.mmca.backend.Availability availability() {
            return dev.mmca.backend.Availability.available("host stand-in of a GPU");
        }
        @Override public dev.mmca.backend.Support supports(MmcaConfig c) { return dev.mmca.backend.Support.yes(); }
        @Override public dev.mmca.backend.Support supports(dev.mmca.backend.AttentionProblem p) {
            return dev.mmca.backend.Support.yes();
        }
        @Override protected dev.mmca.plan.Machine newMachine(List<dev.mmca.plan.PackedWeight> weights) {
            return new CudaMachine(weights, precision, new HostDevice(precision.dtype()));
        }
    }
}
