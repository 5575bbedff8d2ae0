package dev.mmca;

import java.util.Objects;

/**
 * Hyper-parameters of one {@link SimpleMmca} model (and of each of its three {@code MGQA} blocks).
 * Immutable; built and validated by {@link Builder}, so a config that exists is consistent.
 */
public final class MmcaConfig {
    /** Default width of one attention head (upstream {@code dim_head = 64}, independent of dim). */
    public static final int DEFAULT_DIM_HEAD = 64;
    /** Scale applied to the logits when {@code qkNorm} is on (upstream {@code qk_norm_scale}). */
    public static final float QK_NORM_SCALE = 10f;

    private final int dim;
    private final int heads;
    private final int kvHeads;
    private final int dimHead;
    private final boolean causal;
    private final boolean qkNorm;
    private final Composition composition;
    private final HeadMapping headMapping;
    private final ImageAttention imageAttention;

    private MmcaConfig(Builder b) {
        this.dim = b.dim;
        this.heads = b.heads;
        this.kvHeads = b.kvHeads == null ? b.heads : b.kvHeads;
        this.dimHead = b.dimHead;
        this.composition = b.composition;
        this.causal = b.causal == null ? b.composition.defaultCausal() : b.causal;
        this.qkNorm = b.qkNorm;
        this.headMapping = b.headMapping;
        // only the interleaved composition has image tokens; elsewhere the rule is fixed, so equal models compare equal
        this.imageAttention = b.composition == Composition.INTERLEAVED ? b.imageAttention : ImageAttention.SELF;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder pre-filled with this config's values. */
    public Builder toBuilder() {
        return new Builder().dim(dim).heads(heads).kvHeads(kvHeads).dimHead(dimHead).causal(causal)
                .qkNorm(qkNorm).composition(composition).headMapping(headMapping).imageAttention(imageAttention);
    }

    public int dim() { return dim; }
    public int heads() { return heads; }
    public int kvHeads() { return kvHeads; }
    public int dimHead() { return dimHead; }
    public boolean causal() { return causal; }
    public boolean qkNorm() { return qkNorm; }
    public Composition composition() { return composition; }
    public HeadMapping headMapping() { return headMapping; }
    /** What image tokens attend to under {@link Composition#INTERLEAVED}; {@link ImageAttention#SELF} otherwise. */
    public ImageAttention imageAttention() { return imageAttention; }

    /** Query heads per key/value head, {@code H / G}. */
    public int groupSize() { return heads / kvHeads; }
    /** Width of the concatenated query heads, {@code H * D}. */
    public int innerDim() { return heads * dimHead; }
    /** Width of the concatenated key (or value) heads, {@code G * D}. */
    public int kvInnerDim() { return kvHeads * dimHead; }

    /** The logit scale: {@code D^-0.5}, or {@link #QK_NORM_SCALE} with qkNorm (SPEC step 3). */
    public float scale() {
        return qkNorm ? QK_NORM_SCALE : (float) (1.0 / Math.sqrt(dimHead));
    }

    /** Whether the textual self-attention block masks future keys. */
    public boolean textCausal() { return causal; }
    /** Whether the visual block is causal: only under SEED, where one flag drives all blocks. */
    public boolean visualCausal() { return composition == Composition.SEED && causal; }
    /** Whether the cross block is causal: only under SEED (CROSS cross-attention never is). */
    public boolean crossCausal() { return composition == Composition.SEED && causal; }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof MmcaConfig)) {
            return false;
        }
        MmcaConfig c = (MmcaConfig) o;
        return dim == c.dim && heads == c.heads && kvHeads == c.kvHeads && dimHead == c.dimHead
                && causal == c.causal && qkNorm == c.qkNorm && composition == c.composition
                && headMapping == c.headMapping && imageAttention == c.imageAttention;
    }

    @Override
    public int hashCode() {
        return Objects.hash(dim, heads, kvHeads, dimHead, causal, qkNorm, composition, headMapping, imageAttention);
    }

    @Override
    public String toString() {
        return "MmcaConfig{dim=" + dim + ", heads=" + heads + ", kvHeads=" + kvHeads + ", dimHead=" + dimHead
                + ", causal=" + causal + ", qkNorm=" + qkNorm + ", composition=" + composition
                + ", headMapping=" + headMapping
                + (composition == Composition.INTERLEAVED ? ", imageAttention=" + imageAttention : "") + "}";
    }

    /** Collects and validates the hyper-parameters. {@code dim} and {@code heads} are required. */
    public static final class Builder {
        private int dim = -1;
        private int heads = -1;
        private Integer kvHeads;
        private int dimHead = DEFAULT_DIM_HEAD;
        private Boolean causal;
        private boolean qkNorm;
        private Composition composition = Composition.CROSS;
        private HeadMapping headMapping = HeadMapping.MODULO;
        private ImageAttention imageAttention = ImageAttention.SELF;

        private Builder() {
        }

        public Builder dim(int dim) { this.dim = dim; return this; }
        public Builder heads(int heads) { this.heads = heads; return this; }
        /** Key/value heads G; defaults to {@code heads} (plain multi-head attention). */
        public Builder kvHeads(int kvHeads) { this.kvHeads = kvHeads; return this; }
        public Builder dimHead(int dimHead) { this.dimHead = dimHead; return this; }
        /** Causal flag; defaults to true for CROSS and false for SEED (as upstream); INTERLEAVED is always causal. */
        public Builder causal(boolean causal) { this.causal = causal; return this; }
        public Builder qkNorm(boolean qkNorm) { this.qkNorm = qkNorm; return this; }
        public Builder composition(Composition composition) {
            this.composition = Objects.requireNonNull(composition, "composition");
            return this;
        }
        public Builder headMapping(HeadMapping headMapping) {
            this.headMapping = Objects.requireNonNull(headMapping, "headMapping");
            return this;
        }

        /** What image tokens attend to (INTERLEAVED only); default {@link ImageAttention#SELF}. */
        public Builder imageAttention(ImageAttention imageAttention) {
            this.imageAttention = Objects.requireNonNull(imageAttention, "imageAttention");
            return this;
        }

        /** Validates and builds; every error names the argument, what was expected and what came. */
        public MmcaConfig build() {
            require(dim > 0, "dim: expected a positive integer, got " + dim);
            require(heads > 0, "heads: expected a positive integer, got " + heads);
            if (kvHeads != null) {
                require(kvHeads > 0, "kvHeads: expected a positive integer, got " + kvHeads);
                require(kvHeads <= heads, "kvHeads: expected at most heads (" + heads + "), got " + kvHeads);
                require(heads % kvHeads == 0,
                        "kvHeads: expected a divisor of heads (" + heads + "), got " + kvHeads
                                + " (heads % kvHeads = " + (heads % kvHeads) + ")");
            }
            require(dimHead > 0, "dimHead: expected a positive integer, got " + dimHead);
            require(composition != Composition.INTERLEAVED || causal == null || causal,
                    "causal: composition INTERLEAVED is causal by definition (a text token sees the tokens up to"
                            + " itself), expected true, got false");
            long inner = (long) heads * dimHead;
            require(inner * Math.max(dim, 1) <= Integer.MAX_VALUE,
                    "heads*dimHead*dim: expected at most 2^31-1 weight elements, got " + inner * dim);
            return new MmcaConfig(this);
        }

        private static void require(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
