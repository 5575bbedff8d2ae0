package dev.mmca.backend;

import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.Modality;
import java.util.Objects;

/**
 * One interleaved multi-modal causal attention call (SPEC "Interleaved MMCA", without the projections): the
 * tokens of {@code modality [B, N]} (0 padding, 1 text, 2 image) attend causally, every query row with two
 * softmaxes, one over a text group and one over an image group, added:
 * {@code out_i = sum_{j in T(i)} softmax_T(s_i)_j v_j + sum_{j in I(i)} softmax_I(s_i)_j v_j}, {@code s_ij = scale *
 * q_i . k_j}. A text token's groups are the text and the image tokens {@code j <= i}; an image token's follow
 * {@link ImageAttention}; an empty group adds zero and padding rows are zero.
 *
 * <p>Tensors (row-major): {@code q [B, N, H*D]}, {@code k [B, N, G*D]}, {@code v [B, N, G*D]},
 * {@code out [B, N, H*D]}; batch and N are the modality's shape.
 */
public final class InterleavedProblem {
    private final Modality modality;
    private final ImageAttention imageAttention;
    private final int heads;
    private final int kvHeads;
    private final int dimHead;
    private final float scale;
    private final boolean qkNorm;
    private final HeadMapping headMapping;

    private InterleavedProblem(Builder b) {
        this.modality = b.modality;
        this.imageAttention = b.imageAttention;
        this.heads = b.heads;
        this.kvHeads = b.kvHeads;
        this.dimHead = b.dimHead;
        this.qkNorm = b.qkNorm;
        this.scale = b.scale != null ? b.scale : (b.qkNorm ? 10f : (float) (1.0 / Math.sqrt(b.dimHead)));
        this.headMapping = b.headMapping;
    }

    /** A problem over the tokens of {@code modality}. */
    public static Builder builder(Modality modality) {
        return new Builder(modality);
    }

    public Modality modality() { return modality; }
    public ImageAttention imageAttention() { return imageAttention; }
    public int batch() { return modality.batch(); }
    /** N, tokens per batch element (queries and keys alike). */
    public int tokens() { return modality.length(); }
    public int heads() { return heads; }
    public int kvHeads() { return kvHeads; }
    public int dimHead() { return dimHead; }
    public float scale() { return scale; }
    public boolean qkNorm() { return qkNorm; }
    public HeadMapping headMapping() { return headMapping; }

    /**
     * The plain causal problem of the same sizes and options, without masks: what a backend's limits (head width,
     * sizes) are judged on.
     */
    public AttentionProblem asCausalProblem() {
        return AttentionProblem.builder().batch(batch()).heads(heads).kvHeads(kvHeads).queries(tokens()).keys(tokens())
                .dimHead(dimHead).scale(scale).causal(true).qkNorm(qkNorm).headMapping(headMapping).build();
    }

    /** The (query, key, head) triples in some query's text or image group, over all batch elements. */
    public long visiblePairs() {
        long total = 0;
        int n = tokens();
        for (int b = 0; b < batch(); b++) {
            int text = 0;
            int image = 0;
            long run = 0;  // image tokens of the current image (only a text token ends it, not padding)
            for (int i = 0; i < n; i++) {
                byte t = modality.get(b, i);
                if (t == Modality.TEXT) {
                    text++;
                    total += text + image;  // the text and the image tokens up to i
                    total += run * run;     // BLOCK: the image that ended here, each of its tokens saw all of it
                    run = 0;
                } else if (t == Modality.IMAGE) {
                    image++;
                    if (imageAttention == ImageAttention.SELF) {
                        total += text + 1;  // the text tokens before i and i itself
                    } else {
                        run++;
                    }
                }
            }
            total += run * run;
        }
        return total * heads;
    }

    /** Floating-point operations counted as {@code 4 * D} per visible (query, key, head) triple. */
    public double flops() {
        return 4.0 * dimHead * visiblePairs();
    }

    @Override
    public String toString() {
        return "InterleavedProblem{B=" + batch() + ", N=" + tokens() + ", H=" + heads + ", G=" + kvHeads + ", D="
                + dimHead + ", qkNorm=" + qkNorm + ", mapping=" + headMapping + ", images=" + imageAttention.label()
                + "}";
    }

    /** Collects and validates the problem's sizes and options. */
    public static final class Builder {
        private final Modality modality;
        private ImageAttention imageAttention = ImageAttention.SELF;
        private int heads = -1;
        private int kvHeads = -1;
        private int dimHead = -1;
        private Float scale;
        private boolean qkNorm;
        private HeadMapping headMapping = HeadMapping.MODULO;

        private Builder(Modality modality) {
            this.modality = Objects.requireNonNull(modality, "modality");
        }

        public Builder heads(int v) { heads = v; return this; }
        public Builder kvHeads(int v) { kvHeads = v; return this; }
        public Builder dimHead(int v) { dimHead = v; return this; }
        /** Overrides the default scale ({@code D^-0.5}, or 10 with qkNorm). */
        public Builder scale(float v) { scale = v; return this; }
        public Builder qkNorm(boolean v) { qkNorm = v; return this; }
        public Builder headMapping(HeadMapping v) { headMapping = Objects.requireNonNull(v, "headMapping"); return this; }
        public Builder imageAttention(ImageAttention v) {
            imageAttention = Objects.requireNonNull(v, "imageAttention");
            return this;
        }

        public InterleavedProblem build() {
            positive("heads", heads);
            positive("kvHeads", kvHeads);
            positive("dimHead", dimHead);
            if (heads % kvHeads != 0) {
                throw new IllegalArgumentException("kvHeads: expected a divisor of heads (" + heads + "), got " + kvHeads);
            }
            if (scale != null && !(Float.isFinite(scale) && scale > 0)) {
                throw new IllegalArgumentException("scale: expected a finite positive number, got " + scale);
            }
            return new InterleavedProblem(this);
        }

        private static void positive(String name, int v) {
            if (v <= 0) {
                throw new IllegalArgumentException(name + ": expected a positive integer, got " + v);
            }
        }
    }
}
