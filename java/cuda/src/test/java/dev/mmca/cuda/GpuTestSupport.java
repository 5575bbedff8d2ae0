package dev.mmca.cuda;

import dev.mmca.backend.Availability;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.SizeTPointer;
import org.junit.jupiter.api.Assumptions;

/** Shared by the GPU tests: skip (with the reason printed) where CUDA cannot run; device memory level. */
final class GpuTestSupport {
    private GpuTestSupport() {
    }

    /** System property of gpu-check.sh: on a GPU machine a missing GPU is a failure, not a skip. */
    static final String REQUIRE_GPU = "mmca.cuda.requireGpu";

    /** Skips the calling test unless a usable GPU is present, printing why (fails instead under {@value #REQUIRE_GPU}). */
    static void assumeGpu() {
        Availability a = CudaProbe.get().availability();
        if (!a.isAvailable() && Boolean.getBoolean(REQUIRE_GPU)) {
            throw new AssertionError(REQUIRE_GPU + " is set but CUDA is unavailable: " + a.reason());
        }
        if (!a.isAvailable()) {
            System.out.println("[skipped: no usable GPU] " + a.reason());
        }
        Assumptions.assumeTrue(a.isAvailable(), () -> "CUDA unavailable: " + a.reason());
    }

    /** The bound on ||out - ref|| / ||ref|| against the float64 oracle for each precision (one rule: Precision). */
    static double tolerance(CudaPrecision p) {
        return CudaKernelPaths.precisionOf(p).relativeTolerance();
    }

    /** Whether the build claims to have compiled the kernel library (the cuda Maven profile was active). */
    static boolean nativeExpected() {
        return Boolean.getBoolean("mmca.cuda.expectNative");
    }

    /** Free device memory in bytes (cudaMemGetInfo), after waiting for the device. */
    static long freeDeviceBytes() {
        CudaErrors.check(cudart.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            CudaErrors.check(cudart.cudaMemGetInfo(free, total), "cudaMemGetInfo");
            return free.get();
        }
    }
}
