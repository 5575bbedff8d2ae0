package dev.mmca.parity;

import java.util.Locale;

/**
 * The arithmetic a kernel path computes in, and the parity tolerances that follow from it. This is the one place
 * where the library's bounds are defined: the tests of every backend, {@code mmca parity} and the test kit all
 * take them from here.
 *
 * <p>Two bounds per precision, both on the relative error {@code ||out - expected|| / ||expected||} over a whole
 * output tensor (see {@link Comparison}):
 * <ul>
 *   <li>{@link #relativeTolerance()}: a path's output against the float64 reference ({@link Reference64});</li>
 *   <li>{@link #reorderingTolerance()}: a path's output against another output of the same path that performs
 *   the same arithmetic in a different order, such as rows decoded step by step against the rows of one forward
 *   over the whole text.</li>
 * </ul>
 * The reason for each bound is {@link #rationale()}.
 */
public enum Precision {
    /** Double precision: two float64 implementations of the specification (the reference and PyTorch's). */
    FP64(1e-9, 1e-12, "float64 has a 53-bit significand (unit roundoff 1.1e-16); two implementations that sum in"
            + " different orders agree to about 1e-13, and 1e-9 leaves room for long reductions"),
    /** Single precision throughout: the {@code java} and {@code cpu} backends, and {@code cuda} by default. */
    FP32(1e-5, 1e-6, "float32 has a 24-bit significand (unit roundoff 6e-8); GEMMs and softmaxes over a few"
            + " thousand terms, blocked and summed in another order than float64, drift by about 1e-6, and 1e-5"
            + " leaves a factor of ten"),
    /** float32 data, tensor-core products with inputs rounded to TF32 ({@code -Dmmca.cuda.precision=tf32}). */
    TF32(1e-3, 1e-3, "TF32 products round their inputs to an 11-bit significand (unit roundoff 4.9e-4), with"
            + " float32 accumulation; 1e-3 is about twice the unit roundoff"),
    /** bfloat16 data on tensor cores with float32 accumulation and softmax ({@code mmca.cuda.precision=bf16}). */
    BF16(1e-2, 1e-2, "bfloat16 keeps an 8-bit significand (unit roundoff 3.9e-3) for weights, activations and"
            + " probabilities, accumulating in float32; 1e-2 is about 2.5 unit roundoffs"),
    /** float16 data on tensor cores with float32 accumulation and softmax ({@code mmca.cuda.precision=fp16}). */
    FP16(1e-2, 1e-2, "float16 keeps an 11-bit significand (unit roundoff 4.9e-4) but rounds every stored"
            + " intermediate, whose errors add up over the three attention blocks; the same 1e-2 as bfloat16");

    private final double relativeTolerance;
    private final double reorderingTolerance;
    private final String rationale;

    Precision(double relativeTolerance, double reorderingTolerance, String rationale) {
        this.relativeTolerance = relativeTolerance;
        this.reorderingTolerance = reorderingTolerance;
        this.rationale = rationale;
    }

    /** The bound on the relative error of an output against the float64 reference. */
    public double relativeTolerance() {
        return relativeTolerance;
    }

    /**
     * The bound on the relative difference between two outputs of one path that compute the same thing in a
     * different order (decoded rows against the forward's).
     */
    public double reorderingTolerance() {
        return reorderingTolerance;
    }

    /** Why the bounds are what they are. */
    public String rationale() {
        return rationale;
    }

    /** Whether {@code relativeError} is within {@link #relativeTolerance()} (NaN never is). */
    public boolean withinReference(double relativeError) {
        return relativeError <= relativeTolerance;
    }

    /** The lower-case name used on the command line and in reports: {@code fp32}, {@code bf16}, ... */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code fp64}, {@code fp32}, {@code tf32}, {@code bf16} or {@code fp16}, case-insensitively. */
    public static Precision parse(String text) {
        if (text != null) {
            for (Precision p : values()) {
                if (p.label().equals(text.trim().toLowerCase(Locale.ROOT))) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException("precision: expected one of fp64, fp32, tf32, bf16, fp16, got '" + text
                + "'");
    }
}
