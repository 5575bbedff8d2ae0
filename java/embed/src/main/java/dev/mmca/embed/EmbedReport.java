package dev.mmca.embed;

import java.util.List;
import java.util.Locale;

/** What one run did: counts, failures and throughput. */
public final class EmbedReport {
    private final int shards;
    private final int written;
    private final int skipped;
    private final List<ShardFailure> failures;
    private final long records;
    private final long tokens;
    private final long paddedTokens;
    private final double seconds;
    private final double forwardSeconds;
    private final String backend;

    EmbedReport(int shards, int written, int skipped, List<ShardFailure> failures, long records, long tokens,
            long paddedTokens, double seconds, double forwardSeconds, String backend) {
        this.shards = shards;
        this.written = written;
        this.skipped = skipped;
        this.failures = List.copyOf(failures);
        this.records = records;
        this.tokens = tokens;
        this.paddedTokens = paddedTokens;
        this.seconds = seconds;
        this.forwardSeconds = forwardSeconds;
        this.backend = backend;
    }

    /** Input shards found. */
    public int shards() { return shards; }
    /** Output shards written by this run. */
    public int written() { return written; }
    /** Shards whose complete output already existed. */
    public int skipped() { return skipped; }
    public List<ShardFailure> failures() { return failures; }
    public boolean succeeded() { return failures.isEmpty(); }
    /** Records embedded by this run (skipped shards not counted). */
    public long records() { return records; }
    /** Real tokens (visual + text) embedded by this run. */
    public long tokens() { return tokens; }
    /** Tokens the forward calls processed, padding included. */
    public long paddedTokens() { return paddedTokens; }
    /** Wall time of the run. */
    public double seconds() { return seconds; }
    /** Time spent inside forward calls (summed over forward threads). */
    public double forwardSeconds() { return forwardSeconds; }
    public String backend() { return backend; }

    public double recordsPerSecond() { return seconds > 0 ? records / seconds : 0; }
    public double tokensPerSecond() { return seconds > 0 ? tokens / seconds : 0; }
    /** Real tokens over processed tokens: 1 means no padding waste. */
    public double paddingEfficiency() { return paddedTokens > 0 ? (double) tokens / paddedTokens : 1; }

    /** One line for the end of a run. */
    public String summaryLine() {
        return String.format(Locale.ROOT, "%d shards: %d written, %d skipped, %d failed; %d records, %d tokens in"
                        + " %.2f s (%.1f records/s, %.0f tokens/s, padding efficiency %.1f%%, backend %s)",
                shards, written, skipped, failures.size(), records, tokens, seconds, recordsPerSecond(),
                tokensPerSecond(), 100 * paddingEfficiency(), backend);
    }

    @Override
    public String toString() {
        return summaryLine();
    }
}
