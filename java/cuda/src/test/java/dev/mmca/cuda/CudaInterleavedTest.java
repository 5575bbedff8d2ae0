package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.ImageAttention;
import dev.mmca.MgqaWeights;
import dev.mmca.backend.Backend;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.InterleavedParamsLayout;
import dev.mmca.plan.InterleavedPlan;
import dev.mmca.plan.ParamsFormat;
import dev.mmca.plan.PlanIo;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.InterleavedChecks;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Reference64;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Interleaved attention on the cuda backend. Without a GPU: the GPU machine (its parameter block, modality
 * upload, state memory, cache rows and positions) over the host stand-in of the device, which computes the
 * interleaved block in double straight from the block the machine wrote, through the whole shared suite; the
 * kernel library's reading and checking of the block where the library was built. With a GPU: the kernel itself
 * through the same suite.
 */
class CudaInterleavedTest {
    static Stream<InterleavedCases.Case> cases() {
        return InterleavedChecks.decodingCases().stream();
    }

    static Stream<CudaPrecision> precisions() {
        return Stream.of(CudaPrecision.FP32, CudaPrecision.BF16);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void hostMachineForwardAndDecodingMatchTheOracle(InterleavedCases.Case c) {
        Backend host = new CudaMachineTest.HostBackend(CudaPrecision.FP32);
        InterleavedChecks.forwardMatchesTheOracle(host, c);
        InterleavedChecks.decodingEqualsTheForward(host, c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("precisions")
    void hostMachineSuite(CudaPrecision precision) {
        Backend host = new CudaMachineTest.HostBackend(precision);
        InterleavedChecks.attentionCallMatchesTheOracle(host, InterleavedCases.sweep(0).get(2));
        InterleavedChecks.sessionRulesAndRollback(host);
        InterleavedChecks.badInputsAreRefused(host);
    }

    /** One launch for the attention, two GEMMs, every allocation freed. */
    @Test
    void theMachineIssuesOneInterleavedLaunch() {
        InterleavedCases.Case c = InterleavedCases.sweep(0).get(0);
        MgqaWeights w = MgqaWeights.random(c.config(), 4);
        FloatTensor x = RandomInputs.normal(5, c.batch(), c.tokens(), c.config().dim());
        InterleavedPlan plan = InterleavedPlan.of(c.config());
        HostDevice device = new HostDevice(CudaDtype.BF16);
        CudaMachine machine = new CudaMachine(plan.packWeights(w), CudaPrecision.BF16, device);
        machine.poisonWorkspaceForTesting(true);
        InterleavedPlan.Forward f = plan.forward(c.batch(), c.tokens());
        FloatTensor out = FloatTensor.zeros(c.batch(), c.tokens(), c.config().dim());
        machine.run(f.plan, new PlanIo().tensor(f.tokens, x).modality(f.modality, c.modality()).tensor(f.out, out));
        double err = Reference64.relativeError(out, Reference64.interleaved(c.config(), w, x, c.modality()));
        assertTrue(err <= 1e-6, "relative error " + err);
        assertEquals(1, device.calls.stream().filter(s -> s.equals("interleaved")).count(), device.calls.toString());
        assertEquals(2, device.calls.stream().filter(s -> s.startsWith("linear")).count(), device.calls.toString());
        machine.close();
        assertEquals(0, device.liveAllocations, "every allocation is freed by close");
    }

    @Test
    void gpuSuite() {
        GpuTestSupport.assumeGpu();
        Backend gpu = CudaBackend.withPrecision(CudaPrecision.FP32);
        for (InterleavedCases.Case c : InterleavedCases.sweep(10)) {
            InterleavedChecks.forwardMatchesTheOracle(gpu, c);
            InterleavedChecks.attentionCallMatchesTheOracle(gpu, c);
        }
        for (InterleavedCases.Case c : InterleavedChecks.decodingCases()) {
            InterleavedChecks.decodingEqualsTheForward(gpu, c);
        }
        InterleavedChecks.sessionRulesAndRollback(gpu);
        InterleavedChecks.badInputsAreRefused(gpu);
        InterleavedChecks.directTensorsGiveTheSameRows(gpu);
        InterleavedChecks.aGroupWhoseScoresOverflowDownwardsIsRefused(gpu::attention, true);
        InterleavedChecks.minusInfiniteScoresBesideFiniteOnesStillCompute(gpu::attention);
    }

    /** The kernel library reads every field Java writes, and refuses bad ones naming them (no GPU needed). */
    @Test
    void libraryReadsAndChecksTheBlock() {
        Assumptions.assumeTrue(CudaProbe.get().nativeLoaded(), "kernel library not loaded");
        assertEquals(InterleavedParamsLayout.SIZE, CudaNative.mmca_cuda_interleaved_params_size());
        for (ImageAttention rule : ImageAttention.values()) {
            InterleavedCases.Case c = InterleavedCases.sweep(0).get(0).withRule(rule);
            InterleavedPlan.Step step = InterleavedPlan.of(c.config().toBuilder().dimHead(32).build())
                    .decodeStep(2, 3, 16);
            Map<Buffer, Long> at = new IdentityHashMap<>();
            long next = 0x7f0000001000L;
            for (Buffer b : step.plan.buffers()) {
                at.put(b, next);
                next += 0x10000;
            }
            dev.mmca.plan.InterleavedAttentionOp op = (dev.mmca.plan.InterleavedAttentionOp) step.plan.ops().stream()
                    .filter(o -> o instanceof dev.mmca.plan.InterleavedAttentionOp).findFirst().orElseThrow();
            ParamsBlock block = new ParamsBlock().putInterleaved(op, at::get, CudaDtype.F32);
            try (BytePointer buf = new BytePointer(2048)) {
                int n = CudaNative.mmca_cuda_format_interleaved_params(block.address(), buf, 2048);
                byte[] text = new byte[n];
                buf.get(text);
                assertEquals(ParamsFormat.expected(op, at::get, CudaDtype.F32.code(), 4),
                        new String(text, StandardCharsets.US_ASCII));
            }
            CudaNative.mmca_cuda_validate_interleaved(block.address(), CudaPrecision.FP32.math());
            block.bytes().putInt(InterleavedParamsLayout.IMAGE_RULE, 5);
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> CudaNative.mmca_cuda_validate_interleaved(block.address(), CudaPrecision.FP32.math()));
            assertTrue(e.getMessage().contains("interleaved.image_rule: expected 0 (self) or 1 (block), got 5"),
                    e.getMessage());
        }
    }
}
