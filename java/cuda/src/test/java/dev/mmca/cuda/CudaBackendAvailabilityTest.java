package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.BackendUnavailableException;
import dev.mmca.backend.Backends;
import org.junit.jupiter.api.Test;

class CudaBackendAvailabilityTest {
    private static final MmcaConfig CONFIG = MmcaConfig.builder().dim(32).heads(4).kvHeads(2).dimHead(32).build();

    @Test
    void availabilityGivesAReasonAndNeverThrows() {
        Availability a = new CudaBackend().availability();
        assertNotNull(a);
        assertFalse(a.reason().isBlank(), "availability must say why");
        assertFalse(a.reason().startsWith("CUDA probe failed"), "the probe hit an unexpected error: " + a.reason());
        System.out.println("cuda backend: " + a);
        // a second call answers the same, from the cache
        assertEquals(a.toString(), new CudaBackend().availability().toString());
    }

    @Test
    void reasonMatchesHowTheModuleWasBuilt() {
        Availability a = new CudaBackend().availability();
        if (GpuTestSupport.nativeExpected()) {
            assertTrue(CudaProbe.kernelLibraryPackaged(), "the cuda profile ran, so libmmcacuda.so must be on the classpath");
            assertTrue(CudaProbe.get().nativeLoaded(),
                    "the kernel library links cudart statically and must load without a GPU: " + a.reason());
            assertFalse(a.reason().startsWith("built without CUDA"), a.reason());
        } else if (!CudaProbe.kernelLibraryPackaged()) {
            assertFalse(a.isAvailable());
            assertTrue(a.reason().startsWith("built without CUDA"), a.reason());
        }
    }

    @Test
    void isRegisteredAsTheCudaServiceWithPriority20() {
        Backend b = Backends.byName("cuda");
        assertInstanceOf(CudaBackend.class, b);
        assertEquals("cuda", b.name());
        assertEquals(20, b.priority());
        assertTrue(Backends.all().indexOf(b) < Backends.all().indexOf(Backends.byName("java")),
                "cuda ranks above java");
    }

    @Test
    void autoPicksCudaExactlyWhenItIsAvailable() {
        Backend chosen = Backends.select("auto", CONFIG);
        if (new CudaBackend().availability().isAvailable()) {
            assertEquals("cuda", chosen.name());
        } else {
            assertNotEquals("cuda", chosen.name());
        }
    }

    @Test
    void unavailableBackendFailsWithItsReasonNotALinkError() {
        CudaBackend b = new CudaBackend();
        Availability a = b.availability();
        if (a.isAvailable()) {
            return;  // covered by the GPU tests
        }
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> b.prepare(CONFIG, MmcaWeights.random(CONFIG, 1)));
        assertTrue(e.getMessage().contains(a.reason()), e.getMessage());
        BackendUnavailableException named = assertThrows(BackendUnavailableException.class,
                () -> Backends.select("cuda", CONFIG));
        assertTrue(named.getMessage().contains(a.reason()), named.getMessage());
    }

    @Test
    void badPrecisionPropertyMakesTheBackendUnavailableInsteadOfThrowing() {
        String old = System.getProperty(CudaPrecision.PROPERTY);
        System.setProperty(CudaPrecision.PROPERTY, "fp8");
        try {
            CudaBackend b = new CudaBackend();
            Availability a = b.availability();
            assertFalse(a.isAvailable());
            assertTrue(a.reason().contains("mmca.cuda.precision: expected one of fp32, tf32, bf16, fp16, got 'fp8'"),
                    a.reason());
        } finally {
            if (old == null) {
                System.clearProperty(CudaPrecision.PROPERTY);
            } else {
                System.setProperty(CudaPrecision.PROPERTY, old);
            }
        }
    }
}
