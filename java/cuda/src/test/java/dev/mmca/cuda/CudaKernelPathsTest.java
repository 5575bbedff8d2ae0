package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.Availability;
import dev.mmca.backend.Backends;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Precision;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cuda backend's kernel paths: one per precision, with the bounds of its arithmetic; checked with or without a GPU. */
class CudaKernelPathsTest {
    @Test
    void onePathPerPrecisionTheBackendsOwnFirstEachOnItsDevice() {
        CudaBackend bf16OnDevice1 = CudaBackend.withPrecision(CudaPrecision.BF16).onDevice(1);
        List<KernelPath> paths = new CudaKernelPaths().paths(bf16OnDevice1);
        assertEquals(List.of("bf16", "fp32", "tf32", "fp16"), paths.stream().map(KernelPath::name).toList());
        for (KernelPath p : paths) {
            CudaBackend b = (CudaBackend) p.backend();
            assertEquals(1, b.device(), p.id());
            assertEquals(p.name(), b.precision().name().toLowerCase(java.util.Locale.ROOT));
            assertEquals(CudaKernelPaths.precisionOf(b.precision()), p.precision());
            assertEquals("cuda:1/" + p.name(), p.id());
            assertFalse(p.hasThreads(), "host threads do not enter a device computation");
            assertEquals(b.availability().isAvailable(), p.availability().isAvailable());
        }
    }

    @Test
    void theBoundsAreThoseOfThePrecisionsArithmetic() {
        assertEquals(Precision.FP32, CudaKernelPaths.precisionOf(CudaPrecision.FP32));
        assertEquals(1e-5, GpuTestSupport.tolerance(CudaPrecision.FP32));
        assertEquals(1e-3, GpuTestSupport.tolerance(CudaPrecision.TF32));
        assertEquals(1e-2, GpuTestSupport.tolerance(CudaPrecision.BF16));
        assertEquals(1e-2, GpuTestSupport.tolerance(CudaPrecision.FP16));
    }

    @Test
    void withoutAUsableGpuTheBackendIsOneUnavailablePathWithTheReason() {
        Availability a = Backends.byName("cuda").availability();
        List<KernelPath> paths = KernelPaths.of(Backends.byName("cuda"));
        if (a.isAvailable()) {
            assertEquals(CudaPrecision.values().length, paths.size(), paths.toString());
            assertTrue(paths.get(0).availability().isAvailable());
        } else {
            assertEquals(1, paths.size(), paths.toString());
            assertEquals("cuda/*", paths.get(0).id());
            assertEquals(a.reason(), paths.get(0).availability().reason());
        }
    }
}
