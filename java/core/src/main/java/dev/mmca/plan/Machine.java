package dev.mmca.plan;

/**
 * A backend's executor of plans: its memory (Java arrays, native buffers, device memory) and its
 * implementation of the plan operations, with a model's packed weights loaded once. The composition of a
 * model is never here, only in the plans it runs.
 *
 * <p>{@link #run} must be safe to call from several threads at once (implementations serialise where their
 * resources require it), and writes every output of the plan completely.
 */
public abstract class Machine implements AutoCloseable {
    /** Executes {@code plan} over the caller's tensors in {@code io}; returns when the outputs are written. */
    public abstract void run(Plan plan, PlanIo io);

    /**
     * Backend memory of {@code elements} float32 elements that outlives calls: a state tensor
     * ({@link Buffer.Role#STATE}) bound with {@link PlanIo#state}. Contents are undefined until a plan writes
     * them. The caller closes it; closing the machine may free it as well, after which its close does nothing.
     */
    public abstract Memory allocate(String name, long elements);

    /** Backend memory that outlives calls. */
    public interface Memory extends AutoCloseable {
        long elements();

        /** Frees it; idempotent. */
        @Override
        void close();
    }

    /** Frees the weights and any cached workspace; idempotent; never concurrent with {@link #run}. */
    @Override
    public abstract void close();
}
