package dev.mmca.cuda;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A SimpleMMCA model for callers whose tensors already live on the GPU: weights are uploaded once, and
 * {@link #forward} runs the same plan as every other backend directly on device memory (no host copies), on
 * the caller's stream. For host tensors use {@link dev.mmca.SimpleMmca} with the {@code cuda} backend.
 *
 * <p>All tensors are dense and row-major, in the element type of the precision (fp32 for FP32 and TF32,
 * fp16 or bf16 otherwise); addresses and streams are raw CUDA values as {@code long}s (e.g. PyTorch's
 * {@code data_ptr()} and {@code torch.cuda.current_stream().cuda_stream}). Calls are serialised; each returns
 * once its outputs are written. A call after {@link #close()} throws {@link IllegalStateException}.
 */
public final class CudaDeviceModel implements AutoCloseable {
    private final SimpleMmcaPlan plan;
    private final CudaMachine machine;
    private boolean closed;

    private CudaDeviceModel(SimpleMmcaPlan plan, CudaMachine machine) {
        this.plan = plan;
        this.machine = machine;
    }

    /** Uploads {@code weights} for {@code config} in {@code precision}'s element type, on device 0. */
    public static CudaDeviceModel create(MmcaConfig config, MmcaWeights weights, CudaPrecision precision) {
        return create(config, weights, precision, 0);
    }

    /** Uploads {@code weights} for {@code config} in {@code precision}'s element type, on device {@code device}. */
    public static CudaDeviceModel create(MmcaConfig config, MmcaWeights weights, CudaPrecision precision, int device) {
        Objects.requireNonNull(precision, "precision");
        CudaBackend backend = CudaBackend.withPrecision(precision).onDevice(device);
        CudaMachine machine = backend.deviceMachine(config, weights);
        return new CudaDeviceModel(SimpleMmcaPlan.of(config), machine);
    }

    public MmcaConfig config() {
        return plan.config();
    }

    /**
     * {@code visual [batch, nv, dim]} and {@code text [batch, nt, dim]} in; {@code visualOut [batch, nv, dim]}
     * and {@code textOut [batch, nt, dim]} out; masks {@code [batch, nv]} / {@code [batch, nt]} as bytes
     * (1 = real token) or 0 for none.
     */
    public synchronized void forward(int batch, int nv, int nt, long visual, long text, long visualMask, long textMask,
            long visualOut, long textOut, long stream) {
        if (closed) {
            throw new IllegalStateException("CUDA device model: forward() called after close()");
        }
        positive("batch", batch);
        positive("nv", nv);
        positive("nt", nt);
        MmcaInputs.checkTokenCounts(plan.config(), nv, nt);
        SimpleMmcaPlan.Forward f = plan.forward(batch, nv, nt, visualMask != 0, textMask != 0);
        Map<Buffer, Long> at = new IdentityHashMap<>();
        put(at, f.visual, "visual", visual);
        put(at, f.text, "text", text);
        put(at, f.visualOut, "visualOut", visualOut);
        put(at, f.textOut, "textOut", textOut);
        if (f.visualMask != null) {
            at.put(f.visualMask, visualMask);
        }
        if (f.textMask != null) {
            at.put(f.textMask, textMask);
        }
        machine.runOnDevice(f.plan, at, stream);
    }

    private static void put(Map<Buffer, Long> at, Buffer b, String name, long address) {
        if (address == 0) {
            throw new IllegalArgumentException(name + ": expected a device address, got 0 (NULL)");
        }
        at.put(b, address);
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + ": expected a positive integer, got " + v);
        }
    }

    /** Frees the device weights and buffers; idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            machine.close();
        }
    }
}
