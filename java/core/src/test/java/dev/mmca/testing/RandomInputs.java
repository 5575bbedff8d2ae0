package dev.mmca.testing;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import java.util.SplittableRandom;

/** Seeded random tensors and masks for tests. */
public final class RandomInputs {
    private RandomInputs() {
    }

    /** Standard-normal tensor, reproducible from {@code seed}. */
    public static FloatTensor normal(long seed, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1;
        for (int s : shape) {
            n *= s;
        }
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) gaussian(r);
        }
        return FloatTensor.of(a, shape);
    }

    /** A copy of {@code t} in a direct buffer. */
    public static FloatTensor direct(FloatTensor t) {
        FloatTensor d = FloatTensor.allocateDirect(t.shape());
        d.copyFrom(t.toArray(), 0);
        return d;
    }

    /** Random padding: each row keeps a random prefix length in {@code [minLen, n]}. */
    public static Mask randomLengths(long seed, int batch, int n, int minLen) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = minLen + r.nextInt(n - minLen + 1);
        }
        return Mask.fromLengths(lengths, n);
    }

    /** Random scattered mask (not a prefix), each element true with probability {@code p}. */
    public static Mask scattered(long seed, int batch, int n, double p) {
        SplittableRandom r = new SplittableRandom(seed);
        boolean[] v = new boolean[batch * n];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble() < p;
        }
        return Mask.of(v, batch, n);
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
