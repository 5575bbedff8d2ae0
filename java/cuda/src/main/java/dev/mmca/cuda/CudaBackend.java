package dev.mmca.cuda;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * The CUDA backend ({@code cuda}, priority 20): fused attention kernels of libmmcacuda plus cuBLAS
 * projections through the JavaCPP CUDA presets, on one device ({@code cuda:N} picks device N; default 0).
 * Optional at run time: without a GPU, driver or the native library it reports itself unavailable with
 * the reason, and {@code auto} moves on.
 *
 * <p>Precision: {@link CudaPrecision#FP32} (exact) unless the system property
 * {@value CudaPrecision#PROPERTY} or {@link #withPrecision} says otherwise. With BF16 or FP16, fp32
 * host data are converted on the device and weights, activations and attention run in 16 bits with
 * fp32 accumulation.
 */
public final class CudaBackend extends Backend {
    private final CudaPrecision precision;
    private final String precisionError;
    private final int device;

    /** The backend with the precision of the system property {@value CudaPrecision#PROPERTY} (default FP32). */
    public CudaBackend() {
        CudaPrecision p = CudaPrecision.FP32;
        String error = null;
        try {
            p = CudaPrecision.fromSystemProperty();
        } catch (IllegalArgumentException e) {
            error = e.getMessage();  // reported by availability(); ServiceLoader must not see an exception
        }
        this.precision = p;
        this.precisionError = error;
        this.device = 0;
    }

    private CudaBackend(CudaPrecision precision, int device) {
        this.precision = Objects.requireNonNull(precision, "precision");
        this.precisionError = null;
        this.device = device;
    }

    /** A CUDA backend with {@code precision} (e.g. {@code TF32}) on device 0, whatever the system property says. */
    public static CudaBackend withPrecision(CudaPrecision precision) {
        return new CudaBackend(precision, 0);
    }

    public CudaPrecision precision() {
        return precision;
    }

    /** The CUDA device ordinal this backend runs on. */
    public int device() {
        return device;
    }

    /** This backend on device {@code ordinal} ({@code cuda:N}). */
    @Override
    public CudaBackend onDevice(int ordinal) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device: expected a CUDA device ordinal >= 0, got " + ordinal);
        }
        return precisionError != null ? this : new CudaBackend(precision, ordinal);
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 20;
    }

    @Override
    public Availability availability() {
        if (precisionError != null) {
            return Availability.unavailable(precisionError);
        }
        CudaProbe probe = CudaProbe.get();
        Availability a = probe.availability();
        if (!a.isAvailable()) {
            return a;
        }
        String problem = probe.deviceProblem(device);
        if (problem != null) {
            return Availability.unavailable(problem);
        }
        return Availability.available(a.reason() + ", device " + device + ", precision "
                + precision.name().toLowerCase(Locale.ROOT));
    }

    /** Why head width {@code d} has no kernel, or null when it has one. */
    static String dimHeadProblem(int d) {
        Set<Integer> compiled = CudaProbe.get().dimHeads();
        if (compiled.isEmpty()) {
            return "the CUDA kernel library is not loaded: " + CudaProbe.get().availability().reason();
        }
        if (compiled.contains(d)) {
            return null;
        }
        return "unsupported head dim " + d + " (the CUDA kernels support dimHead " + describe(compiled) + ")";
    }

    /**
     * Why this backend cannot run head width {@code d}: no kernel for it, or (with a device present) what the
     * library says of this device, precision and width (compute capability, shared memory per block).
     */
    private String problem(int d) {
        String p = dimHeadProblem(d);
        if (p != null || !CudaProbe.get().availability().isAvailable()) {
            return p;
        }
        String device = CudaNative.mmca_cuda_support_problem(this.device, precision.dtype().code(), precision.math(), d);
        return device == null || device.isEmpty() ? null : device;
    }

    private static String describe(Set<Integer> dims) {
        List<String> all = dims.stream().map(String::valueOf).toList();
        return all.size() == 1 ? all.get(0)
                : String.join(", ", all.subList(0, all.size() - 1)) + " and " + all.get(all.size() - 1);
    }

    @Override
    public Support supports(MmcaConfig config) {
        Objects.requireNonNull(config, "config");
        String problem = problem(config.dimHead());
        return problem == null ? Support.yes() : Support.no(problem);
    }

    @Override
    public Support supports(AttentionProblem problem) {
        Objects.requireNonNull(problem, "problem");
        String d = problem(problem.dimHead());
        if (d != null) {
            return Support.no(d);
        }
        if (problem.heads() > 65535 || problem.batch() > 65535) {
            return Support.no("batch and heads must be at most 65535 (CUDA grid limits), got batch "
                    + problem.batch() + ", heads " + problem.heads());
        }
        return Support.yes();
    }

    @Override
    protected Machine newMachine(List<PackedWeight> weights) {
        return newCudaMachine(weights);
    }

    private CudaMachine newCudaMachine(List<PackedWeight> weights) {
        GpuDevice gpu = new GpuDevice(device, precision == CudaPrecision.TF32);
        try {
            return new CudaMachine(weights, precision, gpu);
        } catch (RuntimeException e) {
            gpu.close();
            throw e;
        }
    }

    /** A machine for a model whose tensors live on the device ({@link CudaDeviceModel}), after prepare's checks. */
    CudaMachine deviceMachine(MmcaConfig config, MmcaWeights weights) {
        SimpleMmcaPlan plan = checkedPlan(config, weights);
        return newCudaMachine(plan.packWeights(weights));
    }

    @Override
    public String toString() {
        return device == 0 ? name() : name() + ":" + device;
    }
}
