package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;

/**
 * A {@link dev.mmca.SimpleMmca} model bound to one backend: weights packed (or uploaded) once.
 * Implementations must be safe for concurrent {@link #forward} calls. Callers (the facade) have
 * already validated inputs and outputs against {@link #config()}, and guarantee that
 * {@link #close()} is never concurrent with a forward.
 */
public interface PreparedModel extends AutoCloseable {
    MmcaConfig config();

    /**
     * Computes the model on {@code inputs}, writing {@code visualOut [B, Nv, dim]} and
     * {@code textOut [B, Nt, dim]} completely.
     */
    void forward(MmcaInputs inputs, FloatTensor visualOut, FloatTensor textOut);

    /** Releases native or device memory; idempotent. */
    @Override
    void close();
}
