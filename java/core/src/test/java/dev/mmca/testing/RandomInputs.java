package dev.mmca.testing;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.parity.SeededInputs;

/** Seeded random tensors and masks for tests: the generators of the public {@link SeededInputs}, same values. */
public final class RandomInputs {
    private RandomInputs() {
    }

    /** Standard-normal tensor, reproducible from {@code seed}. */
    public static FloatTensor normal(long seed, int... shape) {
        return SeededInputs.normal(seed, shape);
    }

    /** A copy of {@code t} in a direct buffer. */
    public static FloatTensor direct(FloatTensor t) {
        return SeededInputs.direct(t);
    }

    /** Random padding: each row keeps a random prefix length in {@code [minLen, n]}. */
    public static Mask randomLengths(long seed, int batch, int n, int minLen) {
        return SeededInputs.randomLengths(seed, batch, n, minLen);
    }

    /** Random scattered mask (not a prefix), each element true with probability {@code p}. */
    public static Mask scattered(long seed, int batch, int n, double p) {
        return SeededInputs.scattered(seed, batch, n, p);
    }
}
