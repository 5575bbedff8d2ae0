package dev.mmca.testkit;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Support;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import java.util.Arrays;
import java.util.Locale;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Assertions of parity with the bounds of {@link Precision}: a failure says how far the output is, the bound, and
 * where the largest difference is ({@code [batch, token, channel]}), so that it can be found again.
 */
public final class ParityAssertions {
    private ParityAssertions() {
    }

    /**
     * Asserts that {@code actual} is within {@code precision}'s {@link Precision#relativeTolerance()} of the float64
     * result {@code expected}; returns the comparison (e.g. to report the worst error of a sweep).
     */
    public static Comparison assertWithin(String what, FloatTensor actual, double[][][] expected, Precision precision) {
        return assertWithin(what, actual, expected, precision.relativeTolerance(), precision.label());
    }

    /** As {@link #assertWithin(String, FloatTensor, double[][][], Precision)} with an explicit bound. */
    public static Comparison assertWithin(String what, FloatTensor actual, double[][][] expected, double tolerance) {
        return assertWithin(what, actual, expected, tolerance, "given");
    }

    /**
     * Asserts that {@code actual}, computed as {@code expected} is but in another order (decoded rows against the
     * forward's), is within {@code precision}'s {@link Precision#reorderingTolerance()} of it.
     */
    public static Comparison assertReordered(String what, FloatTensor actual, FloatTensor expected, Precision precision) {
        Comparison c = Comparison.of(actual, expected);
        check(what, c, precision.reorderingTolerance(), precision.label() + " reordering");
        return c;
    }

    /** Asserts that {@code actual} has exactly the bits of {@code expected} (thread counts, runs, buffers). */
    public static void assertBitIdentical(String what, FloatTensor expected, FloatTensor actual) {
        int at = Comparison.firstBitDifference(expected, actual);
        if (at >= 0) {
            Assertions.fail(what + ": not bit-identical, first difference at " + Arrays.toString(
                    Comparison.position(at, expected.shape())) + ": expected " + expected.get(at) + ", got "
                    + actual.get(at));
        }
    }

    /**
     * Runs {@link SimpleMmca} on {@code path}'s backend (the path in force, as {@link ForEachKernelPath} puts it)
     * and asserts both outputs within the path's precision of the float64 reference; returns the outputs.
     * Skips (an assumption) when the backend does not support {@code config}.
     */
    public static MmcaOutput assertMatchesReference(KernelPath path, MmcaConfig config, MmcaWeights weights,
            MmcaInputs inputs) {
        assumeSupports(path, config);
        Reference64.Output ref = Reference64.simpleMmca(config, weights, inputs);
        try (SimpleMmca model = SimpleMmca.create(config, weights, path.backend())) {
            MmcaOutput out = model.forward(inputs);
            assertWithin(path.id() + " visual", out.visual(), ref.visual, path.precision());
            assertWithin(path.id() + " text", out.text(), ref.text, path.precision());
            return out;
        }
    }

    /** Skips the calling test, with the reason, unless {@code path}'s backend supports {@code config}. */
    public static void assumeSupports(KernelPath path, MmcaConfig config) {
        Support s = path.backend().supports(config);
        Assumptions.assumeTrue(s.isSupported(), () -> path.id() + " does not support " + config + ": " + s.reason());
    }

    private static Comparison assertWithin(String what, FloatTensor actual, double[][][] expected, double tolerance,
            String bound) {
        Comparison c = Comparison.of(actual, expected);
        check(what, c, tolerance, bound);
        return c;
    }

    private static void check(String what, Comparison c, double tolerance, String bound) {
        if (!c.within(tolerance)) {
            Assertions.fail(String.format(Locale.ROOT, "%s: relative error %.3e is above the %s bound %.1e (max abs"
                    + " error %.3e at %s)", what, c.relativeError(), bound, tolerance, c.maxAbsError(),
                    Arrays.toString(c.maxAbsPosition())));
        }
    }
}
