package dev.mmca.bench;

/**
 * One way of computing a {@link Workload} on prepared inputs: one of our backends, or the libtorch peer.
 * {@link #run()} is what is timed; it computes the whole workload and leaves the result where
 * {@link #result()} can read it.
 */
public interface Runner extends AutoCloseable {
    /** The name printed in results: a backend name ({@code java}, {@code cpu}, ...) or {@code libtorch}. */
    String name();

    /** Computes the workload once. */
    void run();

    /**
     * How long this runner's runtime keeps the cores busy after a call has returned (worker threads that spin
     * before they sleep); the timing loops leave the machine idle that long after the runner's turn, so that the
     * next runner is not timed on cores still taken. Zero unless the runtime is known to spin.
     */
    default int settleMillis() {
        return 0;
    }

    /** Idles for {@code r}'s {@link #settleMillis()} (not part of any timed call). */
    static void settle(Runner r) {
        int ms = r.settleMillis();
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the machine settled after " + r.name(), e);
        }
    }

    /**
     * The outputs of the last {@link #run()}, flattened and concatenated in a fixed order (visual then
     * text for a forward, the attention output otherwise), for comparing runners with one another.
     */
    float[] result();

    @Override
    void close();
}
