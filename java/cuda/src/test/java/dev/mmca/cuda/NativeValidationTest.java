package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.AttentionProblem;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The kernel library's argument checks, reached through JNI. They run on the host before any CUDA
 * call, so they work on machines without a GPU as long as the library was built.
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

    @Test
    void descriptorLengthMatchesTheLibrary() {
        assertEquals(AttentionDescriptor.LENGTH, CudaNative.mmca_cuda_desc_len());
    }

    @Test
    void validProblemsPassForEveryPrecision() {
        for (CudaPrecision p : CudaPrecision.values()) {
            for (int d : new int[] {32, 64, 80, 96, 128}) {
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
        long[] slots = AttentionDescriptor.of(problem(64), CudaDtype.F32).pointers(FAKE, FAKE, FAKE, FAKE).slots();
        slots[AttentionDescriptor.DIM_HEAD] = 48;
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_validate(slots, AttentionDescriptor.LENGTH, 0));
        assertTrue(e.getMessage().contains("attention.dim_head: unsupported head dim 48"), e.getMessage());
    }

    @Test
    void launchChecksArgumentsBeforeTouchingTheGpu() {
        // A bad launch must come back as an exception, on a host with or without a GPU.
        long[] slots = AttentionDescriptor.of(problem(64), CudaDtype.F32).pointers(FAKE, FAKE, FAKE, FAKE).slots();
        slots[AttentionDescriptor.KV_HEADS] = 3;
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_attention(slots, AttentionDescriptor.LENGTH, 0, 0L));
        assertTrue(e.getMessage().contains("attention.kv_heads: expected a divisor of heads (4), got 3"), e.getMessage());
        long[] bf16 = AttentionDescriptor.of(problem(64), CudaDtype.BF16).pointers(FAKE, FAKE, FAKE, FAKE).slots();
        e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_attention(bf16, AttentionDescriptor.LENGTH, 0, 0L));
        assertTrue(e.getMessage().contains("attention.math: exact fp32 math needs dtype f32"), e.getMessage());
        e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_attention(slots, 5, 0, 0L));
        assertTrue(e.getMessage().contains("attention.desc: expected 31 slots, got 5"), e.getMessage());
    }

    @Test
    void fusedTextOperationNeedsMatchingQueries() {
        long[] self = AttentionDescriptor.of(problem(64), CudaDtype.F32).pointers(FAKE, FAKE, FAKE, FAKE).slots();
        long[] cross = AttentionDescriptor.of(problem(64), CudaDtype.F32).pointers(FAKE, FAKE, FAKE, FAKE).slots();
        cross[AttentionDescriptor.QUERIES] = 7;
        RuntimeException e = assertThrows(RuntimeException.class,
                () -> CudaNative.mmca_cuda_text(self, cross, AttentionDescriptor.LENGTH, 0, 0L));
        assertTrue(e.getMessage().contains("cross.queries: expected the same value as self (6)"), e.getMessage());
    }

    @Test
    void elementwiseKernelsRejectBadArguments() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_add(0, FAKE, FAKE, 4, 0, 0));
        assertTrue(e.getMessage().contains("add: expected device pointers"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_add(FAKE, FAKE, FAKE, 4, 9, 0));
        assertTrue(e.getMessage().contains("dtype: expected 0 (f32), 1 (f16) or 2 (bf16), got 9"), e.getMessage());
        e = assertThrows(RuntimeException.class, () -> CudaNative.mmca_cuda_convert(FAKE, FAKE, 4, 0, 0, 0));
        assertTrue(e.getMessage().contains("dtype: expected 1 (f16) or 2 (bf16), got 0"), e.getMessage());
    }
}
