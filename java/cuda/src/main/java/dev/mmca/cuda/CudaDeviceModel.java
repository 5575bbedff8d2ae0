package dev.mmca.cuda;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.BackendUnavailableException;
import java.util.Objects;

/**
 * A SimpleMMCA model for callers whose tensors already live on the GPU: weights are uploaded once,
 * and {@link #forward} reads and writes device memory directly (no host copies), on the caller's
 * stream. For host tensors use {@link dev.mmca.SimpleMmca} with the {@code cuda} backend instead.
 *
 * <p>All tensors are dense and row-major, in the element type of the precision (fp32 for FP32 and
 * TF32, fp16 or bf16 otherwise); addresses and streams are raw CUDA values as
 * {@code long}s (e.g. PyTorch's {@code data_ptr()} and {@code torch.cuda.current_stream().cuda_stream}).
 * Calls are serialised; each returns once its outputs are written.
 */
public final class CudaDeviceModel implements AutoCloseable {
    private final CudaModel model;

    private CudaDeviceModel(CudaModel model) {
        this.model = model;
    }

    /** Uploads {@code weights} for {@code config} in {@code precision}'s element type. */
    public static CudaDeviceModel create(MmcaConfig config, MmcaWeights weights, CudaPrecision precision) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(precision, "precision");
        CudaBackend backend = CudaBackend.withPrecision(precision);
        if (!backend.availability().isAvailable()) {
            throw new BackendUnavailableException("backend 'cuda' is not available: " + backend.availability().reason());
        }
        if (!backend.supports(config).isSupported()) {
            throw new BackendUnavailableException("backend 'cuda' does not support " + config + ": "
                    + backend.supports(config).reason());
        }
        weights.validate(config);
        return new CudaDeviceModel(new CudaModel(config, weights, precision));
    }

    public MmcaConfig config() {
        return model.config();
    }

    /**
     * {@code visual [batch, nv, dim]} and {@code text [batch, nt, dim]} in; {@code visualOut [batch, nv, dim]}
     * and {@code textOut [batch, nt, dim]} out; masks {@code [batch, nv]} / {@code [batch, nt]} as bytes
     * (1 = real token) or 0 for none. Under SEED composition {@code nv} must equal {@code nt}.
     */
    public void forward(int batch, int nv, int nt, long visual, long text, long visualMask, long textMask,
            long visualOut, long textOut, long stream) {
        positive("batch", batch);
        positive("nv", nv);
        positive("nt", nt);
        if (model.config().composition() == dev.mmca.Composition.SEED && nv != nt) {
            throw new IllegalArgumentException("nt: composition SEED expects as many text tokens as visual tokens ("
                    + nv + "), got " + nt);
        }
        address("visual", visual);
        address("text", text);
        address("visualOut", visualOut);
        address("textOut", textOut);
        model.forwardDevice(batch, nv, nt, visual, text, visualMask, textMask, visualOut, textOut, stream);
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + ": expected a positive integer, got " + v);
        }
    }

    private static void address(String name, long a) {
        if (a == 0) {
            throw new IllegalArgumentException(name + ": expected a device address, got 0 (NULL)");
        }
    }

    /** Frees the device weights and buffers; idempotent. */
    @Override
    public void close() {
        model.close();
    }
}
