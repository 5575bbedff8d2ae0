package dev.mmca.bench;

/**
 * One way of decoding a {@link dev.mmca.workload.Workload.Kind#DECODE} workload on prepared inputs: the visual
 * side is prepared once when the runner is built, then the text tokens come one per step. Two things are
 * timed: {@link #decodeSequence()} (every step from an empty cache) and {@link #lastStep()} (the final step,
 * the cache holding every earlier token, rolled back afterwards so that it can be repeated).
 */
public interface DecodeRunner extends AutoCloseable {
    /** The name printed in results, such as {@code cpu} or {@code libtorch-kv-cat}. */
    String name();

    /** See {@link Runner#settleMillis()}. */
    default int settleMillis() {
        return 0;
    }

    /** Decodes the whole text one token per step from an empty cache, keeping each step's output row. */
    void decodeSequence();

    /**
     * Decodes the last text token with the cache holding every earlier one, then rolls the cache back to that
     * state; its output row goes where {@link #decodedRows()} reads it.
     */
    void lastStep();

    /**
     * The output rows {@code [B, Nt, dim]} (flattened) of the steps computed so far, by {@link #decodeSequence()}
     * or {@link #lastStep()}; rows at positions not in {@link #decodedPositions()} are undefined.
     */
    float[] decodedRows();

    /** The text positions whose rows {@link #decodedRows()} holds, in increasing order. */
    int[] decodedPositions();

    @Override
    void close();
}
