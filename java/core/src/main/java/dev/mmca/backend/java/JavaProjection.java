package dev.mmca.backend.java;

import dev.mmca.plan.PackedWeight;

/**
 * A projection {@code y = x W^T} on this JVM's Java kernels ({@link JavaBackend#kernels()}: the Vector API
 * ones when the JVM has the module, else the scalar ones), for code outside the java backend whose projections
 * run in Java whatever backend it uses, such as {@code Mgqa}.
 */
public final class JavaProjection {
    private final JavaKernels.Projection projection;

    private JavaProjection(JavaKernels.Projection projection) {
        this.projection = projection;
    }

    /**
     * {@code w} ({@code [out, in]}) in the layout of this JVM's kernels. Throws {@link IllegalStateException} with
     * the reason when system property {@code mmca.java.kernels} asks for kernels this JVM cannot run.
     */
    public static JavaProjection of(PackedWeight w) {
        KernelSelection.Choice c = KernelSelection.current();
        if (!c.ok()) {
            throw new IllegalStateException("java kernels: " + c.reason);
        }
        return new JavaProjection(c.kernels.projection(w));
    }

    /** Input width. */
    public int in() {
        return projection.in();
    }

    /** Output width. */
    public int out() {
        return projection.out();
    }

    /**
     * {@code y[r, :] = x[r, :] W^T} for {@code rows} rows; {@code x [rows, in]}, {@code y [rows, out]}. Returns -1,
     * or {@code r * out + c} of the first output that is not finite (an overflow of float32).
     */
    public long apply(float[] x, int rows, float[] y) {
        return projection.apply(x, 0, rows, y, 0);
    }
}
