package dev.mmca;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The four projection matrices of one grouped-query attention block, in PyTorch {@code nn.Linear}
 * layout {@code [out, in]} ({@code y = x * W^T}, no bias):
 * {@code toQ [H*D, dim]}, {@code toK [G*D, dim]}, {@code toV [G*D, dim]}, {@code toOut [dim, H*D]}.
 */
public final class MgqaWeights {
    private final FloatTensor toQ;
    private final FloatTensor toK;
    private final FloatTensor toV;
    private final FloatTensor toOut;

    public MgqaWeights(FloatTensor toQ, FloatTensor toK, FloatTensor toV, FloatTensor toOut) {
        this.toQ = Objects.requireNonNull(toQ, "toQ");
        this.toK = Objects.requireNonNull(toK, "toK");
        this.toV = Objects.requireNonNull(toV, "toV");
        this.toOut = Objects.requireNonNull(toOut, "toOut");
    }

    public FloatTensor toQ() { return toQ; }
    public FloatTensor toK() { return toK; }
    public FloatTensor toV() { return toV; }
    public FloatTensor toOut() { return toOut; }

    /**
     * Checks every shape against {@code config}; {@code prefix} names the block in messages
     * (e.g. {@code "cross_attn"}; empty for a block saved on its own, whose tensors are {@code to_q.weight}, ...).
     * Also rejects NaN/Inf weights.
     */
    public void validate(String prefix, MmcaConfig config) {
        int dim = config.dim();
        String p = prefix.isEmpty() ? "" : prefix + ".";
        check(p + "to_q.weight", toQ, config.innerDim(), dim);
        check(p + "to_k.weight", toK, config.kvInnerDim(), dim);
        check(p + "to_v.weight", toV, config.kvInnerDim(), dim);
        check(p + "to_out.weight", toOut, dim, config.innerDim());
    }

    private static void check(String name, FloatTensor w, int rows, int cols) {
        if (w.rank() != 2 || w.dim(0) != rows || w.dim(1) != cols) {
            throw new IllegalArgumentException(name + ": expected shape [" + rows + ", " + cols + "], got "
                    + Arrays.toString(w.shape()));
        }
        int bad = w.firstNonFinite();
        if (bad >= 0) {
            throw new IllegalArgumentException(name + ": expected finite values, got " + w.get(bad) + " at "
                    + w.indexString(bad));
        }
    }

    /**
     * Seeded random weights of one block with PyTorch's default {@code nn.Linear} distribution,
     * {@code U(-1/sqrt(in), 1/sqrt(in))}.
     */
    public static MgqaWeights random(MmcaConfig config, long seed) {
        return random(config, new SplittableRandom(seed));
    }

    /** As {@link #random(MmcaConfig, long)}, drawing from {@code random}. */
    static MgqaWeights random(MmcaConfig config, SplittableRandom random) {
        int dim = config.dim();
        return new MgqaWeights(
                uniform(random, config.innerDim(), dim),
                uniform(random, config.kvInnerDim(), dim),
                uniform(random, config.kvInnerDim(), dim),
                uniform(random, dim, config.innerDim()));
    }

    private static FloatTensor uniform(SplittableRandom random, int out, int in) {
        float bound = (float) (1.0 / Math.sqrt(in));
        float[] w = new float[out * in];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        return FloatTensor.of(w, out, in);
    }
}
