package dev.mmca;

import dev.mmca.backend.PreparedModel;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;

/**
 * The visual side of incremental decoding, computed once (SPEC "Incremental text decoding"): the visual
 * output {@code visual_self_attn(v, vMask)} and the cross-attention keys and values projected from it,
 * kept in the backend's memory (on the device for {@code cuda}). Immutable after creation, so any number
 * of {@link TextSession}s and threads may share it. Close it when the sessions are done; a session used
 * after its context is closed throws {@link IllegalStateException}.
 */
public final class VisualContext implements AutoCloseable {
    private final PreparedModel model;
    private final int batch;
    private final int visualTokens;
    private final Mask visualMask;
    private final FloatTensor visualOutput;
    private final Machine.Memory crossKv;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private VisualContext(PreparedModel model, int batch, int visualTokens, Mask visualMask, FloatTensor visualOutput,
            Machine.Memory crossKv) {
        this.model = model;
        this.batch = batch;
        this.visualTokens = visualTokens;
        this.visualMask = visualMask;
        this.visualOutput = visualOutput;
        this.crossKv = crossKv;
    }

    /** Encodes {@code visual [B, Nv, dim]} with {@code visualMask [B, Nv]} (nullable) on {@code model}'s backend. */
    static VisualContext encode(PreparedModel model, FloatTensor visual, Mask visualMask) {
        Objects.requireNonNull(visual, "visual");
        MmcaConfig c = model.config();
        SimpleMmcaPlan plan = model.plan();
        plan.requireDecodable();
        MmcaInputs.checkTokens("visual", visual, -1, c.dim());
        int b = visual.dim(0);
        int nv = visual.dim(1);
        MmcaInputs.checkMask("visualMask", visualMask, b, nv);
        MmcaInputs.checkFinite("visual", visual);
        SimpleMmcaPlan.Encode e = plan.encodeVisual(b, nv, visualMask != null);
        FloatTensor out = visual.isDirect() ? FloatTensor.allocateDirect(b, nv, c.dim()) : FloatTensor.zeros(b, nv, c.dim());
        Machine.Memory kv = model.allocateState(e.crossKv.name(), e.crossKv.elements());
        try {
            model.run(e.plan, new PlanIo().tensor(e.visual, visual).mask(e.visualMask, visualMask)
                    .tensor(e.visualOut, out).state(e.crossKv, kv));
        } catch (RuntimeException ex) {
            kv.close();
            throw ex;
        }
        return new VisualContext(model, b, nv, visualMask, out, kv);
    }

    /** The visual output {@code [B, Nv, dim]}, as {@link SimpleMmca#forward} gives it. */
    public FloatTensor visualOutput() {
        return visualOutput;
    }

    public int batch() {
        return batch;
    }

    public int visualTokens() {
        return visualTokens;
    }

    /** The visual mask the context was encoded with (null: every visual token real). */
    public Mask visualMask() {
        return visualMask;
    }

    PreparedModel model() {
        return model;
    }

    /** Runs {@code body} with the cross keys and values, refusing a closed context; close waits for it. */
    <T> T use(Function<Machine.Memory, T> body) {
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new IllegalStateException("VisualContext: used after close()");
            }
            return body.apply(crossKv);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /** Frees the keys and values after the steps in flight finish; idempotent. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                crossKv.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    public boolean isClosed() {
        lifecycle.readLock().lock();
        try {
            return closed;
        } finally {
            lifecycle.readLock().unlock();
        }
    }
}
