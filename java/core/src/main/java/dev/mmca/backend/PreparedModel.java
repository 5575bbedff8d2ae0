package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A {@link dev.mmca.SimpleMmca} model bound to one backend: weights packed (or uploaded) once. The entry
 * points are final, like {@link Backend}'s: {@link #forward} takes the lifecycle lock once, refuses a closed
 * model, checks shapes and values once ({@link MmcaInputs#validate}), and only then calls
 * {@link #doForward}. Concurrent forwards are safe; {@link #close()} waits for the calls in flight.
 */
public abstract class PreparedModel implements AutoCloseable {
    private final MmcaConfig config;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    protected PreparedModel(MmcaConfig config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    public final MmcaConfig config() {
        return config;
    }

    /** Forward into new tensors: direct ones when the visual input is direct, heap ones otherwise. */
    public final MmcaOutput forward(MmcaInputs inputs) {
        Objects.requireNonNull(inputs, "inputs");
        ReentrantReadWriteLock.ReadLock lock = lifecycle.readLock();
        lock.lock();
        try {
            requireOpen();
            inputs.validate(config);
            int b = inputs.batch();
            boolean direct = inputs.visual().isDirect();
            FloatTensor v = allocate(direct, b, inputs.visualTokens(), config.dim());
            FloatTensor t = allocate(direct, b, inputs.textTokens(), config.dim());
            doForward(inputs, v, t);
            return new MmcaOutput(v, t);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Computes the model on {@code inputs}, writing {@code visualOut [B, Nv, dim]} and {@code textOut [B, Nt, dim]}
     * (heap or direct) completely.
     */
    public final void forward(MmcaInputs inputs, FloatTensor visualOut, FloatTensor textOut) {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(visualOut, "visualOut");
        Objects.requireNonNull(textOut, "textOut");
        ReentrantReadWriteLock.ReadLock lock = lifecycle.readLock();
        lock.lock();
        try {
            requireOpen();
            inputs.validate(config);
            checkOutput("visualOut", visualOut, inputs.batch(), inputs.visualTokens());
            checkOutput("textOut", textOut, inputs.batch(), inputs.textTokens());
            doForward(inputs, visualOut, textOut);
        } finally {
            lock.unlock();
        }
    }

    /** The forward itself; inputs and outputs are checked, the model is open, and close() waits for it. */
    protected abstract void doForward(MmcaInputs inputs, FloatTensor visualOut, FloatTensor textOut);

    /** Releases the backend's resources after the calls in flight finish; idempotent. */
    @Override
    public final void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                doClose();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    /** Frees native or device memory; called once. */
    protected abstract void doClose();

    public final boolean isClosed() {
        lifecycle.readLock().lock();
        try {
            return closed;
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("model: forward() called after close()");
        }
    }

    private void checkOutput(String name, FloatTensor t, int b, int n) {
        int[] s = t.shape();
        if (s.length != 3 || s[0] != b || s[1] != n || s[2] != config.dim()) {
            throw new IllegalArgumentException(name + ": expected shape [" + b + ", " + n + ", " + config.dim()
                    + "], got " + Arrays.toString(s));
        }
    }

    private static FloatTensor allocate(boolean direct, int b, int n, int dim) {
        return direct ? FloatTensor.allocateDirect(b, n, dim) : FloatTensor.zeros(b, n, dim);
    }
}
