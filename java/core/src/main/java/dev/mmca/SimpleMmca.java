package dev.mmca;

import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.backend.PreparedModel;
import java.util.Objects;

/**
 * Multi-modal causal attention with grouped-query attention (SPEC "SimpleMMCA"): visual tokens get
 * GQA self-attention; text tokens get (causal) GQA self-attention plus cross-attention to the
 * visual tokens, normalised by separate softmaxes and added.
 *
 * <p>A model owns backend resources (packed weights, native or device memory): close it, ideally
 * with try-with-resources. It is safe to call {@link #forward} from many threads at once; a call
 * after {@link #close()} throws {@link IllegalStateException}, and {@code close()} waits for calls
 * in flight.
 */
public final class SimpleMmca implements AutoCloseable {
    private final MmcaConfig config;
    private final Backend backend;
    private final PreparedModel model;

    private SimpleMmca(MmcaConfig config, Backend backend, PreparedModel model) {
        this.config = config;
        this.backend = backend;
        this.model = model;
    }

    /** A model on the backend chosen by {@link Backends#select(MmcaConfig)} (property, environment, or auto). */
    public static SimpleMmca create(MmcaConfig config, MmcaWeights weights) {
        return create(config, weights, Backends.select(config));
    }

    /** A model on the backend named {@code backend} ({@code auto}, {@code java}, {@code cpu}, {@code cuda}). */
    public static SimpleMmca create(MmcaConfig config, MmcaWeights weights, String backend) {
        return create(config, weights, Backends.select(backend, config));
    }

    /** A model on {@code backend}. */
    public static SimpleMmca create(MmcaConfig config, MmcaWeights weights, Backend backend) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
        return new SimpleMmca(config, backend, backend.prepare(config, weights));
    }

    public MmcaConfig config() { return config; }
    public Backend backend() { return backend; }

    /** Forward without masks. */
    public MmcaOutput forward(FloatTensor visual, FloatTensor text) {
        return forward(new MmcaInputs(visual, text, null, null));
    }

    /** Forward with optional masks ({@code null} = every token real). */
    public MmcaOutput forward(FloatTensor visual, FloatTensor text, Mask visualMask, Mask textMask) {
        return forward(new MmcaInputs(visual, text, visualMask, textMask));
    }

    /** Forward into new tensors (direct ones when the visual input is direct, heap ones otherwise). */
    public MmcaOutput forward(MmcaInputs inputs) {
        return model.forward(inputs);
    }

    /**
     * Forward into caller-provided outputs {@code visualOut [B, Nv, dim]} and {@code textOut [B, Nt, dim]}
     * (heap or direct), which are overwritten completely.
     */
    public void forwardInto(MmcaInputs inputs, FloatTensor visualOut, FloatTensor textOut) {
        model.forward(inputs, visualOut, textOut);
    }

    /**
     * Incremental decoding, first part: encodes {@code visual [B, Nv, dim]} ({@code visualMask [B, Nv]} or null)
     * once, keeping the cross-attention keys and values in the backend's memory. Needs composition CROSS with
     * causal text (SEED cannot stream).
     */
    public VisualContext encodeVisual(FloatTensor visual, Mask visualMask) {
        return VisualContext.encode(model, visual, visualMask);
    }

    /** A decoding session of at most {@code capacity} text tokens per batch element over {@code context}. */
    public TextSession newTextSession(VisualContext context, int capacity) {
        return TextSession.open(model, context, capacity, false);
    }

    /**
     * A decoding session over {@code context} with room for {@code capacity} text tokens per batch element; when
     * {@code growable}, the cache grows (doubling) instead of refusing to append past it.
     */
    public TextSession newTextSession(VisualContext context, int capacity, boolean growable) {
        return TextSession.open(model, context, capacity, growable);
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
        return "SimpleMmca{" + config + ", backend=" + backend.name() + "}";
    }
}
