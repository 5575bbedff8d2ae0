package dev.mmca.io;

import dev.mmca.Composition;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;

/**
 * Hyper-parameters given explicitly (e.g. on the command line) when loading a model: each one is
 * optional (null = not given) and, when given, wins over the file's {@code __metadata__}. The
 * values that follow from tensor shapes ({@code kvHeads}, {@code dimHead}) are checked against them.
 */
public final class ConfigOverrides {
    private static final ConfigOverrides NONE = builder().build();

    private final Integer heads;
    private final Integer kvHeads;
    private final Integer dimHead;
    private final Boolean causal;
    private final Boolean qkNorm;
    private final Composition composition;
    private final HeadMapping headMapping;
    private final ImageAttention imageAttention;

    private ConfigOverrides(Builder b) {
        this.heads = b.heads;
        this.kvHeads = b.kvHeads;
        this.dimHead = b.dimHead;
        this.causal = b.causal;
        this.qkNorm = b.qkNorm;
        this.composition = b.composition;
        this.headMapping = b.headMapping;
        this.imageAttention = b.imageAttention;
    }

    /** No overrides: everything comes from the file. */
    public static ConfigOverrides none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    public Integer heads() { return heads; }
    public Integer kvHeads() { return kvHeads; }
    public Integer dimHead() { return dimHead; }
    public Boolean causal() { return causal; }
    public Boolean qkNorm() { return qkNorm; }
    public Composition composition() { return composition; }
    public HeadMapping headMapping() { return headMapping; }
    /** Interleaved models only. */
    public ImageAttention imageAttention() { return imageAttention; }

    @Override
    public String toString() {
        return "ConfigOverrides{heads=" + heads + ", kvHeads=" + kvHeads + ", dimHead=" + dimHead + ", causal="
                + causal + ", qkNorm=" + qkNorm + ", composition=" + composition + ", headMapping=" + headMapping
                + ", imageAttention=" + imageAttention + "}";
    }

    /** Every setter accepts null, meaning "not given". */
    public static final class Builder {
        private Integer heads;
        private Integer kvHeads;
        private Integer dimHead;
        private Boolean causal;
        private Boolean qkNorm;
        private Composition composition;
        private HeadMapping headMapping;
        private ImageAttention imageAttention;

        private Builder() {
        }

        public Builder heads(Integer heads) { this.heads = heads; return this; }
        public Builder kvHeads(Integer kvHeads) { this.kvHeads = kvHeads; return this; }
        public Builder dimHead(Integer dimHead) { this.dimHead = dimHead; return this; }
        public Builder causal(Boolean causal) { this.causal = causal; return this; }
        public Builder qkNorm(Boolean qkNorm) { this.qkNorm = qkNorm; return this; }
        public Builder composition(Composition composition) { this.composition = composition; return this; }
        public Builder headMapping(HeadMapping headMapping) { this.headMapping = headMapping; return this; }
        public Builder imageAttention(ImageAttention imageAttention) {
            this.imageAttention = imageAttention;
            return this;
        }

        /** @throws IllegalArgumentException when a given count is not positive */
        public ConfigOverrides build() {
            positive("heads", heads);
            positive("kvHeads", kvHeads);
            positive("dimHead", dimHead);
            return new ConfigOverrides(this);
        }

        private static void positive(String name, Integer value) {
            if (value != null && value <= 0) {
                throw new IllegalArgumentException(name + ": expected a positive integer, got " + value);
            }
        }
    }
}
