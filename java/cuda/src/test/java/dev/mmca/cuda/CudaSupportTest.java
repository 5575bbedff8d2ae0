package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Support;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CudaSupportTest {
    /** Head widths are the kernel library's own list, so the support checks need it built (not a GPU). */
    @BeforeEach
    void needsTheKernelLibrary() {
        boolean loaded = CudaProbe.get().nativeLoaded();
        if (!loaded) {
            System.out.println("[skipped: kernel library not built] " + CudaProbe.get().availability().reason());
            assertFalse(CudaBackend.withPrecision(CudaPrecision.FP32).supports(config(64)).isSupported());
        }
        Assumptions.assumeTrue(loaded, "kernel library not loaded");
    }

    @Test
    void devicesAreChosenByOrdinal() {
        CudaBackend b = (CudaBackend) dev.mmca.backend.Backends.byName("cuda").onDevice(3);
        assertEquals(3, b.device());
        assertEquals("cuda:3", b.toString());
        assertThrows(IllegalArgumentException.class, () -> b.onDevice(-1));
        if (!CudaProbe.get().availability().isAvailable() || CudaProbe.get().devices() <= 3) {
            assertFalse(b.availability().isAvailable(), b.availability().toString());
        }
    }
    private static MmcaConfig config(int dimHead) {
        return MmcaConfig.builder().dim(64).heads(4).kvHeads(2).dimHead(dimHead).build();
    }

    private static AttentionProblem problem(int dimHead) {
        return AttentionProblem.builder().batch(1).heads(4).kvHeads(2).queries(3).keys(5).dimHead(dimHead).build();
    }

    @ParameterizedTest
    @ValueSource(ints = {32, 64, 80, 96, 128})
    void acceptsTheCompiledHeadDims(int d) {
        CudaBackend b = CudaBackend.withPrecision(CudaPrecision.FP32);
        assertTrue(b.supports(config(d)).isSupported());
        assertTrue(b.supports(problem(d)).isSupported());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16, 48, 63, 72, 100, 160, 256})
    void rejectsOtherHeadDimsWithAClearMessage(int d) {
        CudaBackend b = CudaBackend.withPrecision(CudaPrecision.FP32);
        for (Support s : new Support[] {b.supports(config(d)), b.supports(problem(d))}) {
            assertFalse(s.isSupported());
            assertEquals("unsupported head dim " + d + " (the CUDA kernels support dimHead 32, 64, 80, 96 and 128)",
                    s.reason());
        }
    }

    @Test
    void everyPrecisionSupportsModelsAndAttentionCalls() {
        for (CudaPrecision p : CudaPrecision.values()) {
            CudaBackend b = CudaBackend.withPrecision(p);
            assertEquals(p, b.precision());
            assertTrue(b.supports(config(64)).isSupported(), p.toString());
            assertTrue(b.supports(problem(64)).isSupported(), p.toString());
        }
    }

    @Test
    void precisionParsesItsNamesAndRejectsOthers() {
        assertEquals(CudaPrecision.TF32, CudaPrecision.parse(" TF32 "));
        assertEquals(CudaPrecision.BF16, CudaPrecision.parse("bf16"));
        assertEquals(CudaDtype.F16, CudaPrecision.FP16.dtype());
        assertFalse(CudaPrecision.FP32.tensorCores());
        assertTrue(CudaPrecision.TF32.tensorCores());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaPrecision.parse("half"));
        assertEquals("mmca.cuda.precision: expected one of fp32, tf32, bf16, fp16, got 'half'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaPrecision.parse(null));
    }

    @Test
    void precisionDefaultsToExactFp32() {
        String old = System.getProperty(CudaPrecision.PROPERTY);
        System.clearProperty(CudaPrecision.PROPERTY);
        try {
            assertEquals(CudaPrecision.FP32, CudaPrecision.fromSystemProperty());
            assertEquals(CudaPrecision.FP32, new CudaBackend().precision());
            System.setProperty(CudaPrecision.PROPERTY, "tf32");
            assertEquals(CudaPrecision.TF32, new CudaBackend().precision());
        } finally {
            if (old == null) {
                System.clearProperty(CudaPrecision.PROPERTY);
            } else {
                System.setProperty(CudaPrecision.PROPERTY, old);
            }
        }
    }
}
