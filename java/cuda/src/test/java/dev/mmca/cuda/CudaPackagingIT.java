package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Runs against the packaged jar: the kernel library travels inside it and loads from it. */
class CudaPackagingIT {
    @Test
    void jarCarriesTheKernelLibraryAndItsJniGlue() throws Exception {
        Assumptions.assumeTrue(GpuTestSupport.nativeExpected(), "built without nvcc: the jar has no CUDA library");
        String path = System.getProperty("mmca.cuda.jar");
        assertNotNull(path, "mmca.cuda.jar system property");
        try (ZipFile jar = new ZipFile(new File(path))) {
            for (String lib : new String[] {"libmmcacuda.so", "libjniCudaNative.so"}) {
                String entry = "dev/mmca/cuda/linux-x86_64/" + lib;
                assertNotNull(jar.getEntry(entry), path + " lacks " + entry);
                assertTrue(jar.getEntry(entry).getSize() > 0, entry + " is empty");
            }
        }
    }

    @Test
    void kernelLibraryLoadsFromTheJarWithoutAGpu() {
        Assumptions.assumeTrue(GpuTestSupport.nativeExpected(), "built without nvcc");
        String where = String.valueOf(CudaProbe.class.getResource(CudaProbe.KERNEL_LIBRARY));
        assertTrue(where.startsWith("jar:"), "expected the library from the packaged jar, got " + where);
        assertTrue(CudaProbe.get().nativeLoaded(), CudaProbe.get().availability().reason());
    }
}
