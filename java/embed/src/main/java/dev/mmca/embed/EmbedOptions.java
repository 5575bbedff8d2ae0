package dev.mmca.embed;

import dev.mmca.io.ConfigOverrides;
import java.nio.file.Path;
import java.util.Objects;

/** Settings of one {@link EmbedPipeline} run; build with {@link #builder(Path, Path, Path)}. */
public final class EmbedOptions {
    /** Padded tokens (visual + text, padding included) per forward call, by default. */
    public static final int DEFAULT_BATCH_TOKENS = 8192;
    /** Records sorted together by length before they are cut into batches, by default. */
    public static final int DEFAULT_WINDOW = 64;
    /** Batches read ahead of the forward stage (the backpressure bound), by default. */
    public static final int DEFAULT_QUEUE_BATCHES = 4;
    /** Most forward calls at once: each needs its own batch buffers, and backends use every core already. */
    public static final int MAX_COMPUTE_THREADS = 256;
    /** Most batches read ahead (each holds a padded batch in memory). */
    public static final int MAX_QUEUE_BATCHES = 1024;

    private final Path weights;
    private final Path input;
    private final Path output;
    private final String backend;
    private final int batchTokens;
    private final int window;
    private final boolean keepGoing;
    private final int queueBatches;
    private final int computeThreads;
    private final ConfigOverrides overrides;

    private EmbedOptions(Builder b) {
        this.weights = b.weights;
        this.input = b.input;
        this.output = b.output;
        this.backend = b.backend;
        this.batchTokens = b.batchTokens;
        this.window = b.window;
        this.keepGoing = b.keepGoing;
        this.queueBatches = b.queueBatches;
        this.computeThreads = b.computeThreads;
        this.overrides = b.overrides;
    }

    /** The same settings with another output directory. */
    public EmbedOptions withOutput(Path output) {
        return builder(weights, input, output).backend(backend).batchTokens(batchTokens).window(window)
                .keepGoing(keepGoing).queueBatches(queueBatches).computeThreads(computeThreads).overrides(overrides)
                .build();
    }

    public static Builder builder(Path weights, Path input, Path output) {
        return new Builder(weights, input, output);
    }

    public Path weights() { return weights; }
    public Path input() { return input; }
    public Path output() { return output; }
    /** Backend request: a name or {@code auto}; null means the default request (property, environment, auto). */
    public String backend() { return backend; }
    public int batchTokens() { return batchTokens; }
    public int window() { return window; }
    public boolean keepGoing() { return keepGoing; }
    public int queueBatches() { return queueBatches; }
    public int computeThreads() { return computeThreads; }
    /** Hyper-parameters that win over the weights file's metadata. */
    public ConfigOverrides overrides() { return overrides; }

    public static final class Builder {
        private final Path weights;
        private final Path input;
        private final Path output;
        private String backend;
        private int batchTokens = DEFAULT_BATCH_TOKENS;
        private int window = DEFAULT_WINDOW;
        private boolean keepGoing;
        private int queueBatches = DEFAULT_QUEUE_BATCHES;
        private int computeThreads = 1;
        private ConfigOverrides overrides = ConfigOverrides.none();

        private Builder(Path weights, Path input, Path output) {
            this.weights = Objects.requireNonNull(weights, "weights");
            this.input = Objects.requireNonNull(input, "input");
            this.output = Objects.requireNonNull(output, "output");
        }

        public Builder backend(String backend) { this.backend = backend; return this; }
        public Builder batchTokens(int batchTokens) { this.batchTokens = batchTokens; return this; }
        public Builder window(int window) { this.window = window; return this; }
        public Builder keepGoing(boolean keepGoing) { this.keepGoing = keepGoing; return this; }
        public Builder queueBatches(int queueBatches) { this.queueBatches = queueBatches; return this; }
        /** Threads calling forward at once; 1 suits backends that use every core themselves. */
        public Builder computeThreads(int computeThreads) { this.computeThreads = computeThreads; return this; }

        public Builder overrides(ConfigOverrides overrides) {
            this.overrides = Objects.requireNonNull(overrides, "overrides");
            return this;
        }

        public EmbedOptions build() {
            require(batchTokens >= 1, "batchTokens: expected at least 1 token, got " + batchTokens);
            require(window >= 1, "window: expected at least 1 record, got " + window);
            require(queueBatches >= 1 && queueBatches <= MAX_QUEUE_BATCHES, "queueBatches: expected 1 to "
                    + MAX_QUEUE_BATCHES + " batches read ahead, got " + queueBatches);
            require(computeThreads >= 1 && computeThreads <= MAX_COMPUTE_THREADS, "computeThreads: expected 1 to "
                    + MAX_COMPUTE_THREADS + " forward threads (backends already use every core; more threads only"
                    + " add batch buffers), got " + computeThreads);
            return new EmbedOptions(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
