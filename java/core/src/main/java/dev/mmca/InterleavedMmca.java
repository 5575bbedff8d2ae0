package dev.mmca;

import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.backend.PreparedInterleaved;
import java.util.Objects;

/**
 * Interleaved multi-modal causal attention (SPEC "Interleaved MMCA", DeepSpeed-VisualChat): one grouped-query
 * attention block over one sequence of interleaved text and image tokens, {@code tokens [B, N, dim]} with
 * {@code modality [B, N]} (0 padding, 1 text, 2 image). A text token attends causally to the text and to the image
 * tokens before it with two separate softmaxes whose weighted sums are added; an image token follows the
 * configuration's {@link ImageAttention} rule; padding rows are zero. The weights are one block's {@code to_q},
 * {@code to_k}, {@code to_v}, {@code to_out} ({@link dev.mmca.io.ModelFiles#readInterleaved}).
 *
 * <p>The model owns backend resources: close it. {@link #forward} is safe from many threads at once; a call after
 * {@link #close()} throws {@link IllegalStateException}, and {@code close()} waits for calls in flight.
 */
public final class InterleavedMmca implements AutoCloseable {
    private final MmcaConfig config;
    private final Backend backend;
    private final PreparedInterleaved model;

    private InterleavedMmca(MmcaConfig config, Backend backend, PreparedInterleaved model) {
        this.config = config;
        this.backend = backend;
        this.model = model;
    }

    /** A model on the backend chosen by {@link Backends#select(MmcaConfig)} (property, environment, or auto). */
    public static InterleavedMmca create(MmcaConfig config, MgqaWeights weights) {
        return create(config, weights, Backends.select(config));
    }

    /** A model on the backend named {@code backend} ({@code auto}, {@code java}, {@code cpu}, {@code cuda}). */
    public static InterleavedMmca create(MmcaConfig config, MgqaWeights weights, String backend) {
        return create(config, weights, Backends.select(backend, config));
    }

    /**
     * A model on {@code backend}; {@code config}'s composition must be {@link Composition#INTERLEAVED}.
     *
     * @throws IllegalArgumentException if it is another, or a weight's shape contradicts the config
     */
    public static InterleavedMmca create(MmcaConfig config, MgqaWeights weights, Backend backend) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
        return new InterleavedMmca(config, backend, backend.prepareInterleaved(config, weights));
    }

    public MmcaConfig config() { return config; }
    public Backend backend() { return backend; }

    /**
     * The block on {@code tokens [B, N, dim]} (heap or direct) with {@code modality [B, N]}: a new {@code [B, N,
     * dim]} tensor (direct when the tokens are), padding rows zero.
     */
    public FloatTensor forward(FloatTensor tokens, Modality modality) {
        Objects.requireNonNull(tokens, "tokens");
        PreparedInterleaved.checkTokens("tokens", tokens, -1, config.dim());
        int b = tokens.dim(0);
        int n = tokens.dim(1);
        FloatTensor out = tokens.isDirect() ? FloatTensor.allocateDirect(b, n, config.dim())
                : FloatTensor.zeros(b, n, config.dim());
        model.forward(tokens, modality, out);
        return out;
    }

    /** As {@link #forward(FloatTensor, Modality)}, into {@code out [B, N, dim]}, which is overwritten completely. */
    public void forwardInto(FloatTensor tokens, Modality modality, FloatTensor out) {
        model.forward(tokens, modality, out);
    }

    /**
     * An incremental decoding session for {@code batch} sequences of at most {@code capacity} real tokens each
     * ({@link InterleavedSession}).
     */
    public InterleavedSession newSession(int batch, int capacity) {
        return InterleavedSession.open(model, batch, capacity, false);
    }

    /** As {@link #newSession(int, int)}; when {@code growable}, the cache grows (doubling) instead of refusing. */
    public InterleavedSession newSession(int batch, int capacity, boolean growable) {
        return InterleavedSession.open(model, batch, capacity, growable);
    }

    public boolean isClosed() {
        return model.isClosed();
    }

    /** Releases the backend's resources after the calls in flight finish; idempotent. */
    @Override
    public void close() {
        model.close();
    }

    @Override
    public String toString() {
        return "InterleavedMmca{" + config + ", backend=" + backend.name() + "}";
    }
}
