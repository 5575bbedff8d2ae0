package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.Modality;
import java.util.SplittableRandom;

/**
 * Random tensors and masks that a seed reproduces exactly, on every JVM and every run: the inputs of parity
 * checks, so that a failure names a case anyone can rerun. Values are standard normal (Box-Muller over
 * {@link SplittableRandom}), which exercises signs, cancellation and a realistic dynamic range.
 */
public final class SeededInputs {
    private SeededInputs() {
    }

    /** A standard-normal tensor of {@code shape} (heap memory), reproducible from {@code seed}. */
    public static FloatTensor normal(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1;
        for (int s : shape) {
            if (s < 0) {
                throw new IllegalArgumentException("shape: expected sizes >= 0, got " + java.util.Arrays.toString(shape));
            }
            n *= s;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape: expected at most 2^31-9 elements, got " + n);
        }
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) gaussian(r);
        }
        return FloatTensor.of(a, shape);
    }

    /** A copy of {@code t} in a direct buffer (the zero-copy route to native backends). */
    public static FloatTensor direct(FloatTensor t) {
        FloatTensor d = FloatTensor.allocateDirect(t.shape());
        d.copyFrom(t.toArray(), 0);
        return d;
    }

    /** Padding at the end: each batch element keeps a random number of real tokens in {@code [minLen, n]}. */
    public static Mask randomLengths(long seed, int batch, int n, int minLen) {
        if (minLen < 0 || minLen > n) {
            throw new IllegalArgumentException("minLen: expected 0 to " + n + ", got " + minLen);
        }
        SplittableRandom r = new SplittableRandom(seed);
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = minLen + r.nextInt(n - minLen + 1);
        }
        return Mask.fromLengths(lengths, n);
    }

    /** A scattered mask (not a prefix): each token is real with probability {@code p}. */
    public static Mask scattered(long seed, int batch, int n, double p) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean[] v = new boolean[batch * n];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() < p;
        }
        return Mask.of(v, batch, n);
    }

    /**
     * Model inputs for {@code config}: visual tokens from {@code seed}, text tokens from {@code seed + 1}, and, when
     * {@code masks}, visual padding at the end ({@code seed + 2}, at least one real token per element) and a
     * scattered text mask ({@code seed + 3}, 80% real).
     */
    public static MmcaInputs modelInputs(MmcaConfig config, long seed, int batch, int visualTokens, int textTokens,
            boolean masks) {
        MmcaInputs.checkTokenCounts(config, visualTokens, textTokens);
        FloatTensor v = normal(seed, batch, visualTokens, config.dim());
        FloatTensor t = normal(seed + 1, batch, textTokens, config.dim());
        if (!masks) {
            return new MmcaInputs(v, t, null, null);
        }
        return new MmcaInputs(v, t, randomLengths(seed + 2, batch, visualTokens, 1),
                scattered(seed + 3, batch, textTokens, 0.8));
    }

    /**
     * An interleaved layout {@code [batch, length]} as real sequences have it: runs of text (1 to 5 tokens) and of
     * image tokens (1 to 12, so images are contiguous), about half of each, and runs of padding (1 to 5) about a
     * tenth of the time, anywhere.
     */
    public static Modality modality(long seed, int batch, int length) {
        if (batch < 1 || length < 1 || (long) batch * length > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("shape: expected [batch, length] with at least one token and fewer"
                    + " than 2^31 elements, got [" + batch + ", " + length + "]");
        }
        SplittableRandom r = new SplittableRandom(seed);
        byte[] m = new byte[batch * length];
        for (int b = 0; b < batch; b++) {
            int i = 0;
            while (i < length) {
                byte kind = r.nextInt(10) < 1 ? Modality.PADDING : r.nextInt(10) < 5 ? Modality.TEXT : Modality.IMAGE;
                int run = 1 + r.nextInt(kind == Modality.IMAGE ? 12 : 5);
                for (int e = 0; e < run && i < length; e++, i++) {
                    m[b * length + i] = kind;
                }
            }
        }
        return Modality.of(m, batch, length);
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
