package dev.mmca.cuda;

import dev.mmca.backend.Backend;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The kernel paths of the {@code cuda} backend: one per {@link CudaPrecision}, the backend's own precision first
 * (fp32 unless {@value CudaPrecision#PROPERTY} says otherwise), each on the backend's device. A precision is a
 * backend instance ({@link CudaBackend#withPrecision}), so every path runs in this JVM; the host's threads do not
 * enter a device computation, so the paths have no thread count.
 */
public final class CudaKernelPaths implements KernelPaths {
    /** Used by {@link java.util.ServiceLoader}. */
    public CudaKernelPaths() {
    }

    @Override
    public String backend() {
        return "cuda";
    }

    @Override
    public List<KernelPath> paths(Backend backend) {
        CudaPrecision first = backend instanceof CudaBackend c ? c.precision() : CudaPrecision.FP32;
        int device = backend instanceof CudaBackend c ? c.device() : 0;
        List<CudaPrecision> order = new ArrayList<>(List.of(first));
        for (CudaPrecision p : CudaPrecision.values()) {
            if (p != first) {
                order.add(p);
            }
        }
        List<KernelPath> paths = new ArrayList<>();
        for (CudaPrecision p : order) {
            CudaBackend b = CudaBackend.withPrecision(p).onDevice(device);
            paths.add(KernelPath.builder(b, p.name().toLowerCase(Locale.ROOT)).precision(precisionOf(p)).build());
        }
        return paths;
    }

    /** The arithmetic of a CUDA precision, which fixes its parity bounds. */
    public static Precision precisionOf(CudaPrecision p) {
        switch (p) {
            case FP32:
                return Precision.FP32;
            case TF32:
                return Precision.TF32;
            case BF16:
                return Precision.BF16;
            case FP16:
                return Precision.FP16;
            default:
                throw new IllegalArgumentException("precision: no parity bounds for " + p);
        }
    }
}
