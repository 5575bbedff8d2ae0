package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.PreparedModel;
import dev.mmca.backend.Support;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The CUDA backend ({@code cuda}, priority 20): fused attention kernels of libmmcacuda plus cuBLAS
 * projections through the JavaCPP CUDA presets. Optional at run time: without a GPU, driver or the
 * native library it reports itself unavailable with the reason, and {@code auto} moves on.
 *
 * <p>Precision: {@link CudaPrecision#FP32} (exact) unless the system property
 * {@value CudaPrecision#PROPERTY} or {@link #withPrecision} says otherwise. With BF16 or FP16, fp32
 * host data are converted on the device and weights, activations and attention run in 16 bits with
 * fp32 accumulation.
 */
public final class CudaBackend extends Backend {
    /** Head widths with compiled kernels. */
    public static final Set<Integer> SUPPORTED_DIM_HEADS = Set.of(32, 64, 80, 96, 128);

    private final CudaPrecision precision;
    private final String precisionError;

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
    }

    private CudaBackend(CudaPrecision precision) {
        this.precision = Objects.requireNonNull(precision, "precision");
        this.precisionError = null;
    }

    /** A CUDA backend with {@code precision} (e.g. {@code TF32}), whatever the system property says. */
    public static CudaBackend withPrecision(CudaPrecision precision) {
        return new CudaBackend(precision);
    }

    public CudaPrecision precision() {
        return precision;
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
        Availability a = CudaProbe.get().availability();
        return a.isAvailable() ? Availability.available(a.reason() + ", precision " + precision.name().toLowerCase(
                java.util.Locale.ROOT)) : a;
    }

    static String unsupportedDimHead(int d) {
        return "unsupported head dim " + d + " (the CUDA kernels support dimHead 32, 64, 80, 96 and 128)";
    }

    @Override
    public Support supports(MmcaConfig config) {
        Objects.requireNonNull(config, "config");
        if (!SUPPORTED_DIM_HEADS.contains(config.dimHead())) {
            return Support.no(unsupportedDimHead(config.dimHead()));
        }
        return Support.yes();
    }

    @Override
    public Support supports(AttentionProblem problem) {
        Objects.requireNonNull(problem, "problem");
        if (!SUPPORTED_DIM_HEADS.contains(problem.dimHead())) {
            return Support.no(unsupportedDimHead(problem.dimHead()));
        }
        if (problem.heads() > 65535 || problem.batch() > 65535) {
            return Support.no("batch and heads must be at most 65535 (CUDA grid limits), got batch "
                    + problem.batch() + ", heads " + problem.heads());
        }
        return Support.yes();
    }

    @Override
    protected PreparedModel doPrepare(MmcaConfig config, MmcaWeights weights) {
        return new CudaModel(config, weights, precision);
    }

    @Override
    protected void doAttention(AttentionProblem problem, FloatTensor q, FloatTensor k, FloatTensor v, FloatTensor out) {
        CudaDtype dtype = precision.dtype();
        List<DeviceMemory> held = new ArrayList<>();
        try {
            DeviceMemory dq = hold(held, DeviceMemory.upload(q));
            DeviceMemory dk = hold(held, DeviceMemory.upload(k));
            DeviceMemory dv = hold(held, DeviceMemory.upload(v));
            DeviceMemory dout = hold(held, DeviceMemory.floats(out.size()));
            long keyMask = maskOnDevice(problem.keyMask(), held);
            long queryMask = maskOnDevice(problem.queryMask(), held);
            long[] addr = {dq.address(), dk.address(), dv.address(), dout.address()};
            long[] sizes = {q.size(), k.size(), v.size(), out.size()};
            if (dtype != CudaDtype.F32) {  // run on 16-bit copies, converted on the device
                for (int i = 0; i < 3; i++) {
                    DeviceMemory h = hold(held, DeviceMemory.allocate(sizes[i] * dtype.bytes()));
                    CudaNative.mmca_cuda_convert(h.address(), addr[i], sizes[i], dtype.code(), 0, 0L);
                    addr[i] = h.address();
                }
                addr[3] = hold(held, DeviceMemory.allocate(sizes[3] * dtype.bytes())).address();
            }
            AttentionDescriptor d = AttentionDescriptor.of(problem, dtype)
                    .pointers(addr[0], addr[1], addr[2], addr[3])
                    .masks(keyMask, problem.keys(), queryMask, problem.queries());
            CudaNative.mmca_cuda_attention(d.slots(), AttentionDescriptor.LENGTH, precision.math(), 0L);
            if (dtype != CudaDtype.F32) {
                CudaNative.mmca_cuda_convert(dout.address(), addr[3], sizes[3], dtype.code(), 1, 0L);
            }
            CudaNative.mmca_cuda_synchronize(0L);
            dout.read(out, 0);
        } finally {
            for (int i = held.size() - 1; i >= 0; i--) {
                held.get(i).close();
            }
        }
    }

    private static DeviceMemory hold(List<DeviceMemory> held, DeviceMemory m) {
        held.add(m);
        return m;
    }

    private static long maskOnDevice(Mask mask, List<DeviceMemory> held) {
        return mask == null ? 0 : hold(held, DeviceMemory.upload(mask.bytesView())).address();
    }
}
