package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.HeadMapping;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.plan.AttentionCallPlan;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.ParamsFormat;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.Map;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kernel library's reading of the parameter block and its argument checks, reached through JNI. They
 * run on the host before any CUDA call, so they work on machines without a GPU as long as the library
 * was built.
 */
class NativeValidationTest {
    private static final long FAKE = 0x10000L;  // never dereferenced: validation rejects or accepts before launch

    @BeforeEach
    void needsTheKernelLibrary() {
        boolean loaded = CudaProbe.get().nativeLoaded();
        if (!loaded) {
            System.out.println("[skipped: kernel library not built] " + CudaProbe.get().availability().reason());
        }
        Assumptions.assumeTrue(loaded, "kernel library not loaded");
    }

    private static AttentionProblem problem(int dimHead) {
        return AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(6).keys(9).dimHead(dimHead).build();
    }

    /** A block for {@code problem} with q, k, v, o (and both masks) at distinct fake device addresses. */
    private static ParamsBlock block(AttentionProblem problem, CudaDtype dtype) {
        AttentionCallPlan call = AttentionCallPlan.of(problem, true, true);
        Map<Buffer, Long> at = new IdentityHashMap<>();
        at.put(call.q, 0x100000L);
        at.put(call.k, 0x200000L);
        at.put(call.v, 0x300000L);
        at.put(call.out, 0x400000L);
        at.put(call.keyMask, 0x500000L);
        at.put(call.queryMask, 0x600000L);
        return new ParamsBlock().put(0, call.op(), at::get, dtype);
    }

    @Test
    void libraryReadsEveryFieldJavaWrites() {
        assertEquals(AttentionParamsLayout.SIZE, CudaNative.mmca_cuda_params_size());
        for (CudaDtype dtype : CudaDtype.values()) {
            for (boolean flag : new boolean[] {false, true}) {
                AttentionProblem p = AttentionProblem.builder().batch(3).heads(8).kvHeads(2).queries(5).keys(11)
                        .dimHead(flag ? 80 : 32).causal(flag).qkNorm(!flag)
                        .headMapping(flag ? HeadMapping.GROUPED : HeadMapping.MODULO).build();
                AttentionCallPlan call = AttentionCallPlan.of(p, flag, !flag);
                Map<Buffer, Long> at = new IdentityHashMap<>();
                long next = 0x7f0000001000L;
                for (Buffer b : call.plan.buffers()) {
                    at.put(b, next);
                    next += 0x10000;
                }
                ParamsBlock block = new ParamsBlock().put(0, call.op(), at::get, dtype);
                String expected = ParamsFormat.expected(call.op(), at::get, dtype.code(), dtype.bytes());
                try (BytePointer buf = new BytePointer(2048)) {
                    int n = CudaNative.mmca_cuda_format_params(block.address(), buf, 2048);
                    byte[] text = new byte[n];
                    buf.get(text);
                    assertEquals(expected, new String(text, StandardCharsets.US_ASCII));
                }
            }
        }
    }

    @Test
    void headWidthsComeFromTheLibrary() {
        assertEquals(java.util.Set.of(32, 64, 80, 96, 128), CudaProbe.get().dimHeads());
    }

    @Test
    void validProblemsPassForEveryPrecision() {
        for (CudaPrecision p : CudaPrecision.values()) {
            for (int d : CudaProbe.get().dimHeads()) {
                assertDoesNotThrow(() -> CudaAttention.validate(problem(d), p, FAKE, FAKE, FAKE, FAKE));
            }
        }
    }

    @Test
    void nullPointersAreNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaAttention.validate(problem(64), CudaPrecision.FP32, FAKE, 0, FAKE, FAKE));
        assertEquals("attention.k: expected a device pointer, got NULL", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CudaAttention.validate(problem(64), CudaPrecision.BF16, FAKE, FAKE, FAKE, 0));
        assertEquals("attention.o: expected a device pointer, got NULL", e.getMessage());
    }

    @Test
    void nativeSideRejectsHeadDimsWithoutKernels() {
        ParamsBlock b = block(problem(64), CudaDtype.F32);
        b.bytes().putInt(AttentionParamsLayout.DIM_HEAD, 48);
        RuntimeException e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_validate(b.address(), 0));
        assertTrue(e.getMessage().contains("attention.dim_head: unsupported head dim 48"), e.getMessage());
    }

    @Test
    void launchChecksArgumentsBeforeTouchingTheGpu() {
        // A bad launch must come back as an exception, on a host with or without a GPU.
        ParamsBlock b = block(problem(64), CudaDtype.F32);
        b.bytes().putInt(AttentionParamsLayout.KV_HEADS, 3);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_attention(0, b.address(), 0, 0, 0, 0L));
        assertTrue(e.getMessage().contains("attention.kv_heads: expected a divisor of heads (4), got 3"), e.getMessage());
        ParamsBlock bf16 = block(problem(64), CudaDtype.BF16);
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_attention(0, bf16.address(), 0, 0, 0, 0L));
        assertTrue(e.getMessage().contains("attention.math: exact fp32 math needs dtype f32"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_attention(0, 0, 0, 0, 0, 0L));
        assertTrue(e.getMessage().contains("attention: expected a parameter block, got NULL"), e.getMessage());
    }

    @Test
    void fusedTextOperationNeedsMatchingQueries() {
        ParamsBlock pair = block(problem(64), CudaDtype.F32);
        AttentionProblem other = AttentionProblem.builder().batch(2).heads(4).kvHeads(2).queries(7).keys(9).dimHead(64)
                .build();
        AttentionCallPlan call = AttentionCallPlan.of(other);
        pair.put(1, call.op(), b -> FAKE, CudaDtype.F32);
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_text(0, pair.address(), 0, 0, 0, 0L));
        assertTrue(e.getMessage().contains("cross.queries: expected the same value as self (6)"), e.getMessage());
    }

    @Test
    void elementwiseKernelsRejectBadArguments() {
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_add(0, 0, FAKE, FAKE, 4, 0, 0));
        assertTrue(e.getMessage().contains("add: expected device pointers"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_add(0, FAKE, FAKE, FAKE, 4, 9, 0));
        assertTrue(e.getMessage().contains("dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got 9"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_convert(0, FAKE, FAKE, 4, 0, 0, 0));
        assertTrue(e.getMessage().contains("dtype: expected 1 (f16) or 2 (bf16), got 0"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_add(-1, FAKE, FAKE, FAKE, 4, 0, 0));
        assertTrue(e.getMessage().contains("device: expected a device ordinal >= 0, got -1"), e.getMessage());
    }
}
