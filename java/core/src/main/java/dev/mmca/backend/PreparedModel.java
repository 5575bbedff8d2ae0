package dev.mmca.backend;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.plan.Machine;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * A {@link dev.mmca.SimpleMmca} model bound to one backend: the model's plans and the backend's
 * {@link Machine} with the weights loaded once. The entry points are final, like {@link Backend}'s:
 * {@link #forward} takes the lifecycle lock once, refuses a closed model, checks shapes and values once
 * ({@link MmcaInputs#validate}), and only then runs the forward plan. Concurrent calls are safe;
 * {@link #close()} waits for the calls in flight.
 */
public final class PreparedModel implements AutoCloseable {
    private final SimpleMmcaPlan plan;
    private final Machine machine;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    PreparedModel(SimpleMmcaPlan plan, Machine machine) {
        this.plan = Objects.requireNonNull(plan, "plan");
        this.machine = Objects.requireNonNull(machine, "machine");
    }

    public MmcaConfig config() {
        return plan.config();
    }

    /** The plans of this model's composition. */
    public SimpleMmcaPlan plan() {
        return plan;
    }

    /** Forward into new tensors: direct ones when the visual input is direct, heap ones otherwise. */
    public MmcaOutput forward(MmcaInputs inputs) {
        Objects.requireNonNull(inputs, "inputs");
        return whileOpen(() -> {
            inputs.validate(config());
            int b = inputs.batch();
            boolean direct = inputs.visual().isDirect();
            FloatTensor v = allocate(direct, b, inputs.visualTokens(), config().dim());
            FloatTensor t = allocate(direct, b, inputs.textTokens(), config().dim());
            runForward(inputs, v, t);
            return new MmcaOutput(v, t);
        });
    }

    /**
     * Computes the model on {@code inputs}, writing {@code visualOut [B, Nv, dim]} and {@code textOut [B, Nt, dim]}
     * (heap or direct) completely.
     */
    public void forward(MmcaInputs inputs, FloatTensor visualOut, FloatTensor textOut) {
        Objects.requireNonNull(inputs, "inputs");
        Objects.requireNonNull(visualOut, "visualOut");
        Objects.requireNonNull(textOut, "textOut");
        whileOpen(() -> {
            inputs.validate(config());
            checkOutput("visualOut", visualOut, inputs.batch(), inputs.visualTokens());
            checkOutput("textOut", textOut, inputs.batch(), inputs.textTokens());
            runForward(inputs, visualOut, textOut);
            return null;
        });
    }

    private void runForward(MmcaInputs in, FloatTensor visualOut, FloatTensor textOut) {
        SimpleMmcaPlan.Forward f = plan.forward(in.batch(), in.visualTokens(), in.textTokens(),
                in.visualMask() != null, in.textMask() != null);
        machine.run(f.plan, new PlanIo()
                .tensor(f.visual, in.visual()).tensor(f.text, in.text())
                .mask(f.visualMask, in.visualMask()).mask(f.textMask, in.textMask())
                .tensor(f.visualOut, visualOut).tensor(f.textOut, textOut));
    }

    /**
     * Runs another plan of this model ({@link #plan()}: visual encoding, decoding steps) on the backend, under
     * the same lifecycle lock as a forward. The caller has checked the plan's inputs.
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

    private void checkOutput(String name, FloatTensor t, int b, int n) {
        int[] s = t.shape();
        if (s.length != 3 || s[0] != b || s[1] != n || s[2] != config().dim()) {
            throw new IllegalArgumentException(name + ": expected shape [" + b + ", " + n + ", " + config().dim()
                    + "], got " + Arrays.toString(s));
        }
    }

    private static FloatTensor allocate(boolean direct, int b, int n, int dim) {
        return direct ? FloatTensor.allocateDirect(b, n, dim) : FloatTensor.zeros(b, n, dim);
    }

    @Override
    public String toString() {
        return "PreparedModel{" + config() + ", " + machine + (isClosed() ? ", closed" : "") + "}";
    }
}
