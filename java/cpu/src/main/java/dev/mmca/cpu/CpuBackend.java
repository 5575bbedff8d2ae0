package dev.mmca.cpu;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.util.List;

/**
 * The native CPU backend ({@code cpu}): fused float32 attention kernels in C++ (AVX-512, AVX2 or a
 * portable path, chosen at load time) and projections through OpenBLAS sgemm over weights packed once;
 * its {@link CpuMachine} runs each plan operation as one native call. Threads: {@link CpuRuntime}.
 */
public final class CpuBackend extends Backend {

    /** Used by {@link java.util.ServiceLoader}. */
    public CpuBackend() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        try {
            if (Boolean.parseBoolean(System.getProperty(CpuRuntime.DISABLE_PROPERTY, "false"))) {
                return Availability.unavailable("disabled by -D" + CpuRuntime.DISABLE_PROPERTY + "=true");
            }
            Throwable failure = CpuRuntime.loadFailure();
            if (failure != null) {
                return Availability.unavailable("native CPU library not usable: " + CpuRuntime.describe(failure));
            }
            return Availability.available("native CPU kernels: " + CpuRuntime.isa() + ", " + CpuRuntime.threads()
                    + " threads, OpenBLAS sgemm (" + MmcaCpuNative.mmca_cpu_blas_core() + " kernels)");
        } catch (Throwable t) {
            return Availability.unavailable("native CPU library failed: " + CpuRuntime.describe(t));
        }
    }

    @Override
    public Support supports(MmcaConfig config) {
        return Support.yes();
    }

    @Override
    public Support supports(AttentionProblem problem) {
        return Support.yes();
    }

    @Override
    protected Machine newMachine(List<PackedWeight> weights) {
        return new CpuMachine(weights);
    }

    @Override
    public String toString() {
        return name();
    }
}
