package dev.mmca.cpu;

import dev.mmca.plan.AttentionParamsLayout;

/**
 * Loads the native CPU library once and exposes its process-wide settings: threads and the kernel
 * instruction set. Loading never throws from {@link #loadFailure()}; every other method throws
 * {@link IllegalStateException} (with the load failure as cause) when the library cannot load.
 *
 * <p>System properties: {@code mmca.cpu.threads} (threads, default: the cores this process may use),
 * {@code mmca.cpu.disable=true} (report the backend unavailable). Environment: {@code MMCA_CPU_ISA}
 * ({@code portable}, {@code avx2} or {@code avx512}) forces a lower kernel path than cpuid allows.
 */
public final class CpuRuntime {
    /** System property: number of threads (the calling thread included). */
    public static final String THREADS_PROPERTY = "mmca.cpu.threads";
    /** System property: {@code true} makes the backend unavailable. */
    public static final String DISABLE_PROPERTY = "mmca.cpu.disable";

    private CpuRuntime() {
    }

    private static final class Holder {
        static final Throwable FAILURE = load();

        private static Throwable load() {
            try {
                Class.forName("dev.mmca.cpu.MmcaCpuNative", true, CpuRuntime.class.getClassLoader());
                int size = MmcaCpuNative.mmca_cpu_params_size();
                if (size != AttentionParamsLayout.SIZE) {
                    return new IllegalStateException("libmmcacpu mismatch: its mmca_attention_params has " + size
                            + " bytes, this jar writes " + AttentionParamsLayout.SIZE);
                }
                int interleaved = MmcaCpuNative.mmca_cpu_interleaved_params_size();
                if (interleaved != dev.mmca.plan.InterleavedParamsLayout.SIZE) {
                    return new IllegalStateException("libmmcacpu mismatch: its mmca_interleaved_params has "
                            + interleaved + " bytes, this jar writes " + dev.mmca.plan.InterleavedParamsLayout.SIZE);
                }
                String threads = System.getProperty(THREADS_PROPERTY);
                if (threads != null && !threads.isBlank()) {
                    MmcaCpuNative.mmca_cpu_set_threads(parseThreads(threads.trim()));
                }
                return null;
            } catch (Throwable t) {
                return t;
            }
        }

        private static int parseThreads(String s) {
            try {
                int n = Integer.parseInt(s);
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(THREADS_PROPERTY + ": expected a positive integer, got '" + s + "'");
        }
    }

    /** Null when the native library is loaded; otherwise what went wrong. */
    public static Throwable loadFailure() {
        return Holder.FAILURE;
    }

    /** The failure and its causes on one line (the Loader's real reason is usually in a cause). */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- caused by: ");
            }
            sb.append(c.getClass().getName()).append(": ").append(c.getMessage());
        }
        return sb.toString();
    }

    static void requireLoaded() {
        Throwable t = Holder.FAILURE;
        if (t != null) {
            throw new IllegalStateException("native CPU library not loaded: " + describe(t), t);
        }
    }

    /** Threads used by every computation, the calling thread included. */
    public static int threads() {
        requireLoaded();
        return MmcaCpuNative.mmca_cpu_threads();
    }

    /**
     * Sets the thread count; must not be called while a computation runs. Results do not depend on it
     * (work is split into independent outputs only).
     */
    public static void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads: expected a positive integer, got " + n);
        }
        requireLoaded();
        MmcaCpuNative.mmca_cpu_set_threads(n);
    }

    /** The kernel path in use: {@code avx512}, {@code avx2} or {@code portable}. */
    public static String isa() {
        requireLoaded();
        return MmcaCpuNative.mmca_cpu_isa();
    }

    /**
     * Selects a kernel path; must not be called while a computation runs.
     *
     * @throws IllegalArgumentException if the name is unknown or this CPU cannot run that path
     */
    public static void setIsa(String name) {
        if (name == null) {
            throw new IllegalArgumentException("isa: expected portable, avx2 or avx512, got null");
        }
        requireLoaded();
        try {
            MmcaCpuNative.mmca_cpu_set_isa(name);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    /** The best path this CPU runs (the default unless MMCA_CPU_ISA lowers it), from the cpuid features. */
    public static String bestIsa() {
        java.util.Set<String> f = java.util.Set.of(cpuFeatures().split(";")[0].trim().split(" "));
        if (f.containsAll(java.util.List.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"))) {
            return "avx512";
        }
        return f.containsAll(java.util.List.of("avx2", "fma")) ? "avx2" : "portable";
    }

    /**
     * OpenBLAS's kernel set and why, e.g. {@code "SkylakeX (chosen by mmca: the CPU has AVX-512)"} or
     * {@code "Haswell (OpenBLAS's choice for this CPU)"}.
     */
    public static String blasCore() {
        requireLoaded();
        String core = MmcaCpuNative.mmca_cpu_blas_core();
        switch (MmcaCpuNative.BLAS_CORE_CHOICE) {
            case MmcaCpuEnv.BLAS_CORE_SKYLAKEX:
                return core + " (chosen by mmca: the CPU has AVX-512, so OPENBLAS_CORETYPE=SkylakeX)";
            case MmcaCpuEnv.BLAS_CORE_USER:
                return core + " (OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE") + " set by the user)";
            case MmcaCpuEnv.BLAS_CORE_DEFAULT:
                return core + " (OpenBLAS's choice for this CPU, which has no AVX-512)";
            default:
                return core + " (OpenBLAS was loaded in this JVM before mmca, so its own choice stands)";
        }
    }

    /** CPU features reported by cpuid, e.g. {@code "avx512f avx512bw avx512dq avx512vl avx2 fma avx sse4.2 sse2"}. */
    public static String cpuFeatures() {
        requireLoaded();
        return MmcaCpuNative.mmca_cpu_features();
    }
}
