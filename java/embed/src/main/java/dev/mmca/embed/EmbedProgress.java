package dev.mmca.embed;

/** Receives a run's progress; called from the pipeline's threads, one call at a time. */
public interface EmbedProgress {
    /** The run starts: {@code records} records in {@code shards} shards are to be embedded. */
    default void start(int shards, long records) {
    }

    /** A forward call finished {@code records} records of {@code tokens} real tokens. */
    default void advance(int records, long tokens) {
    }

    /** A shard failed; with keep-going the run goes on. */
    default void failed(ShardFailure failure) {
    }

    /**
     * A warning about the run's inputs, e.g. from loading the weights (a tensor that is not part of the
     * model, an override that replaces a metadata value). By default it is logged at {@code WARNING}.
     */
    default void warning(String message) {
        System.getLogger("dev.mmca.embed").log(System.Logger.Level.WARNING, message);
    }

    /** The run ended (also after a failure). */
    default void finish(EmbedReport report) {
    }

    /** Reports nothing. */
    EmbedProgress NONE = new EmbedProgress() {
    };
}
