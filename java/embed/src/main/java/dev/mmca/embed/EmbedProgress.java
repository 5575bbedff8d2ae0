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

    /** The run ended (also after a failure). */
    default void finish(EmbedReport report) {
    }

    /** Reports nothing. */
    EmbedProgress NONE = new EmbedProgress() {
    };
}
