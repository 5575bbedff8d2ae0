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
     * The outputs of the last {@link #run()}, flattened and concatenated in a fixed order (visual then
     * text for a forward, the attention output otherwise), for comparing runners with one another.
     */
    float[] result();

    @Override
    void close();
}
