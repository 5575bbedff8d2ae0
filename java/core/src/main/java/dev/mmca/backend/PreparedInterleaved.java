package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.plan.InterleavedPlan;
import dev.mmca.plan.Machine;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * An {@link dev.mmca.InterleavedMmca} model bound to one backend: the interleaved plans and the backend's
 * {@link Machine} with the block's weights loaded once. As {@link PreparedModel}: {@link #forward} takes the
 * lifecycle lock, refuses a closed model, checks shapes, modality and values once, and only then runs the
 * plan; concurrent calls are safe and {@link #close()} waits for the calls in flight.
 */
public final class PreparedInterleaved implements AutoCloseable {
    private final InterleavedPlan plan;
    private final Machine machine;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    PreparedInterleaved(InterleavedPlan plan, Machine machine) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.machine = Objects.requireNonNull(machine, "machine");
    }

    public MmcaConfig config() {
        return plan.config();
    }

    /** The plans of this model. */
    public InterleavedPlan plan() {
        return plan;
    }

    /**
     * Computes the block on {@code tokens [B, N, dim]} with {@code modality [B, N]}, writing {@code out [B, N, dim]}
     * (heap or direct) completely; padding rows are zero.
     */
    public void forward(FloatTensor tokens, Modality modality, FloatTensor out) {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(out, "out");
        whileOpen(() -> {
            int dim = config().dim();
            checkTokens("tokens", tokens, -1, dim);
            int b = tokens.dim(0);
            int n = tokens.dim(1);
            checkModality("modality", modality, b, n);
            checkOutput("out", out, b, n, dim);
            checkFinite("tokens", tokens);
            InterleavedPlan.Forward f = plan.forward(b, n);
            machine.run(f.plan, new PlanIo().tensor(f.tokens, tokens).modality(f.modality, modality).tensor(f.out, out));
            return null;
        });
    }

    /**
     * Runs another plan of this model ({@link #plan()}: decoding steps, cache growth) on the backend, under the same
     * lifecycle lock as a forward. The caller has checked the plan's inputs.
     */
    public void run(Plan p, PlanIo io) {
        whileOpen(() -> {
            machine.run(p, io);
            return null;
        });
    }

    /** Backend memory for a state tensor of a plan (see {@link Machine#allocate}); the caller closes it. */
    public Machine.Memory allocateState(String name, long elements) {
        return whileOpen(() -> machine.allocate(name, elements));
    }

    /**
     * Checks that {@code t} is {@code [batch, tokens, dim]} (batch -1: any) with at least one token; the message
     * names {@code name}.
     */
    public static void checkTokens(String name, FloatTensor t, int batch, int dim) {
        int[] s = t.shape();
        if (s.length != 3 || s[0] <= 0 || s[1] <= 0 || s[2] != dim || (batch >= 0 && s[0] != batch)) {
            throw new IllegalArgumentException(name + ": expected shape [" + (batch >= 0 ? batch : "batch")
                    + ", tokens, " + dim + "] with at least one token, got " + Arrays.toString(s));
        }
    }

    /** Checks that {@code m} is {@code [batch, tokens]}. */
    public static void checkModality(String name, Modality m, int batch, int tokens) {
        if (m.batch() != batch || m.length() != tokens) {
            throw new IllegalArgumentException(name + ": expected shape [" + batch + ", " + tokens + "] (one modality"
                    + " per token), got [" + m.batch() + ", " + m.length() + "]");
        }
    }

    /** Refuses NaN and infinities, naming the first one. */
    public static void checkFinite(String name, FloatTensor t) {
        int bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new IllegalArgumentException(name + ": expected finite values, got " + t.get(bad) + " at index "
                    + t.indexString(bad));
        }
    }

    private static void checkOutput(String name, FloatTensor t, int b, int n, int dim) {
        int[] s = t.shape();
        if (s.length != 3 || s[0] != b || s[1] != n || s[2] != dim) {
            throw new IllegalArgumentException(name + ": expected shape [" + b + ", " + n + ", " + dim + "], got "
                    + Arrays.toString(s));
        }
    }

    private <T> T whileOpen(Supplier<T> body) {
        ReentrantReadWriteLock.ReadLock lock = lifecycle.readLock();
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("model: called after close()");
            }
            return body.get();
        } finally {
            lock.unlock();
        }
    }

    /** Releases the backend's resources after the calls in flight finish; idempotent. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                machine.close();
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

    @Override
    public String toString() {
        return "PreparedInterleaved{" + config() + ", " + machine + (isClosed() ? ", closed" : "") + "}";
    }
}
