package dev.mmca.backend.java;

import dev.mmca.plan.PackedWeight;

/**
 * The operations a {@link JavaMachine} spends its time in, as one exchangeable set: the scalar kernels
 * ({@link ScalarKernels}: {@link PackedLinear}, {@link FusedAttention}, {@link InterleavedAttention}), which run on
 * every JVM, or the Vector
 * API kernels ({@code VectorKernels}), loaded only when {@code jdk.incubator.vector} is present. Which set runs
 * is decided once per JVM by {@link KernelSelection}.
 */
interface JavaKernels {
    /** {@code scalar} or {@code vector}. */
    String name();

    /** What the set runs on, for logs and {@code mmca info} (e.g. the vector width). */
    String detail();

    /** Width in bits of the vectors the set is written for; 0 for the scalar set (whatever C2 makes of it). */
    int vectorBits();

    /** {@code w} converted once into the layout this set's GEMM reads. */
    Projection projection(PackedWeight w);

    /**
     * One fused attention operation (SPEC steps 2-5), every output row written (the scale folded into the queries
     * before the products, as the native kernels do). Returns -1, or {@code b * queries + i} of the first query
     * row whose scores overflowed float32 (an infinite or NaN score from finite inputs), for the caller's error.
     */
    long attention(AttentionArgs a);

    /**
     * One fused interleaved attention operation (SPEC "Interleaved MMCA"): {@code a} causal and without masks, the
     * key modality {@code modality[b * modalityStride + j]} (0 padding, 1 text, 2 image), the image rule
     * {@code block} (else self); every output row written, rows of padding tokens zero. Returns -1, or
     * {@code b * queries + i} of the first query row whose scores overflowed float32, for the caller's error.
     */
    long interleaved(AttentionArgs a, byte[] modality, int modalityStride, boolean block);

    /** A projection {@code y = x W^T} over dense rows. */
    interface Projection {
        /** Input width. */
        int in();

        /** Output width. */
        int out();

        /**
         * {@code y[yOffset + r * out ..] = x[xOffset + r * in ..] W^T} for {@code rows} rows. Returns -1, or
         * {@code r * out + c} of the first output that is not finite (an overflow of float32), for the caller's
         * error.
         */
        long apply(float[] x, int xOffset, int rows, float[] y, int yOffset);
    }
}
