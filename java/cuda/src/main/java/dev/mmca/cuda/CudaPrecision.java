package dev.mmca.cuda;

import java.util.Locale;

/**
 * How the CUDA backend computes attention and projections.
 * <ul>
 *   <li>{@link #FP32}: exact fp32 arithmetic on CUDA cores (the default; error vs float64 about 1e-6);</li>
 *   <li>{@link #TF32}: fp32 data, tensor-core products rounded to TF32 (opt-in; about 1e-3);</li>
 *   <li>{@link #BF16} / {@link #FP16}: 16-bit data on tensor cores, fp32 accumulation and softmax (about 1e-2).</li>
 * </ul>
 * The default comes from the system property {@value #PROPERTY} ({@code fp32}, {@code tf32}, {@code bf16}, {@code fp16}).
 */
public enum CudaPrecision {
    FP32(CudaDtype.F32, false),
    TF32(CudaDtype.F32, true),
    BF16(CudaDtype.BF16, true),
    FP16(CudaDtype.F16, true);

    /** System property that selects the default precision. */
    public static final String PROPERTY = "mmca.cuda.precision";

    private final CudaDtype dtype;
    private final boolean tensorCores;

    CudaPrecision(CudaDtype dtype, boolean tensorCores) {
        this.dtype = dtype;
        this.tensorCores = tensorCores;
    }

    /** The element type the kernels read and write. */
    public CudaDtype dtype() {
        return dtype;
    }

    /** Whether products run on tensor cores. */
    public boolean tensorCores() {
        return tensorCores;
    }

    /** The {@code mmca_cuda_math} value. */
    int math() {
        return tensorCores ? 1 : 0;
    }

    /** Parses {@code fp32}, {@code tf32}, {@code bf16} or {@code fp16} (case-insensitive). */
    public static CudaPrecision parse(String text) {
        if (text != null) {
            String t = text.trim().toLowerCase(Locale.ROOT);
            for (CudaPrecision p : values()) {
                if (p.name().toLowerCase(Locale.ROOT).equals(t)) {
                    return p;
                }
            }
        }
        throw new IllegalArgumentException(PROPERTY + ": expected one of fp32, tf32, bf16, fp16, got '" + text + "'");
    }

    /** The precision named by the system property {@value #PROPERTY}, or {@link #FP32} when it is unset. */
    public static CudaPrecision fromSystemProperty() {
        String v = System.getProperty(PROPERTY);
        return v == null || v.isBlank() ? FP32 : parse(v);
    }
}
