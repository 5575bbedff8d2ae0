package dev.mmca.cpu;

/** Machine calibration figures for benchmarks and {@code mmca info}. */
public final class CpuCalibration {
    private CpuCalibration() {
    }

    /**
     * OpenBLAS sgemm throughput for {@code n x n x n} ({@code 2 n^3} flops) in GFLOP/s, best of
     * {@code repeats} timed runs after one warm-up: the better of OpenBLAS threading the call itself over
     * {@link CpuRuntime#threads()} threads and the blocked path the backend's projections take (row
     * blocks on the backend's pool, OpenBLAS single-threaded in each). Do not run it concurrently with
     * other computations of this backend.
     */
    public static double sgemmGflops(int n, int repeats) {
        if (n < 1) {
            throw new IllegalArgumentException("n: expected a positive integer, got " + n);
        }
        if (repeats < 1) {
            throw new IllegalArgumentException("repeats: expected a positive integer, got " + repeats);
        }
        CpuRuntime.requireLoaded();
        return MmcaCpuNative.mmca_cpu_sgemm_gflops(n, repeats);
    }

    /**
     * The fp32 FMA peak of this machine in GFLOP/s: every thread of the native pool runs independent chains of
     * vector FMAs of the kernel path in use, best over about {@code seconds}. The physical limit every GFLOP/s
     * figure is compared with.
     */
    public static double fmaPeakGflops(double seconds) {
        CpuRuntime.requireLoaded();
        return MmcaCpuNative.mmca_cpu_fma_peak_gflops(seconds);
    }

    /** Memory read bandwidth in GB/s: the native pool's threads sum a {@code bytes} buffer, best of {@code repeats}. */
    public static double readBandwidthGbs(long bytes, int repeats) {
        CpuRuntime.requireLoaded();
        return MmcaCpuNative.mmca_cpu_read_bandwidth_gbs(bytes, repeats);
    }

    /** The CPU features and the kernel path chosen, e.g. {@code "isa=avx512 threads=2 (avx512f ...)"}. */
    public static String cpuFeatures() {
        Throwable failure = CpuRuntime.loadFailure();
        if (failure != null) {
            return "native CPU library not loaded: " + CpuRuntime.describe(failure);
        }
        return "isa=" + CpuRuntime.isa() + " threads=" + CpuRuntime.threads() + " (" + CpuRuntime.cpuFeatures() + ");"
                + " GEMM: OpenBLAS " + CpuRuntime.blasCore();
    }
}
