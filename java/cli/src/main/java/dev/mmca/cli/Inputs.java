package dev.mmca.cli;

import dev.mmca.FloatTensor;
import java.util.SplittableRandom;

/** Seeded standard-normal inputs for the demo and the benchmarks. */
final class Inputs {
    private Inputs() {
    }

    static FloatTensor normal(long seed, boolean direct, int... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        FloatTensor t = direct ? FloatTensor.allocateDirect(shape) : FloatTensor.zeros(shape);
        int n = t.size();
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            double u1 = r.nextDouble();
            double u2 = r.nextDouble();
            a[i] = (float) (Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2));
        }
        t.copyFrom(a, 0);
        return t;
    }

    /** A short order-sensitive checksum: sum and sum of |x|, printed to 6 significant digits. */
    static String checksum(FloatTensor t) {
        double sum = 0;
        double abs = 0;
        for (int i = 0; i < t.size(); i++) {
            sum += t.get(i);
            abs += Math.abs(t.get(i));
        }
        return String.format(java.util.Locale.ROOT, "sum=%.6g abs=%.6g", sum, abs);
    }
}
