package dev.mmca.embed;

/** A shard that could not be embedded, and why. */
public final class ShardFailure {
    private final String shard;
    private final String message;

    public ShardFailure(String shard, String message) {
        this.shard = shard;
        this.message = message;
    }

    /** The shard's file name. */
    public String shard() { return shard; }
    public String message() { return message; }

    @Override
    public String toString() {
        return shard + ": " + message;
    }
}
