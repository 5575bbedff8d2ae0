package dev.mmca.bench;

import java.util.Arrays;
import java.util.Locale;

/**
 * Timings of one runner on one workload: per-call wall times in milliseconds, summarised by the
 * median, and the relative error of its output against libtorch's (NaN where not compared).
 */
public final class Measurement {
    private final String workload;
    private final String backend;
    private final double flops;
    private final double[] timesMs;
    private final double relativeError;

    public Measurement(String workload, String backend, double flops, double[] timesMs, double relativeError) {
        if (timesMs.length == 0) {
            throw new IllegalArgumentException("timesMs: expected at least one timing, got none");
        }
        this.workload = workload;
        this.backend = backend;
        this.flops = flops;
        this.timesMs = timesMs.clone();
        this.relativeError = relativeError;
    }

    public String workload() { return workload; }
    public String backend() { return backend; }
    public double flops() { return flops; }
    public int reps() { return timesMs.length; }
    public double relativeError() { return relativeError; }

    public double medianMs() {
        double[] s = timesMs.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public double minMs() {
        return Arrays.stream(timesMs).min().orElseThrow();
    }

    /** Throughput at the median time. */
    public double gflops() {
        return flops / (medianMs() * 1e6);
    }

    /**
     * One JSON object on one line: the peers' speed over this runner's ({@code libtorch_over_ours},
     * {@code onnxruntime_over_ours}) where finite, and the fraction of the FMA peak {@code peak} (GFLOP/s) where
     * positive.
     */
    public String toJson(double libtorchRatio, double ortRatio, double peak) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "{\"workload\":\"%s\",\"backend\":\"%s\",\"median_ms\":%.4f,"
                + "\"gflops\":%.3f,\"min_ms\":%.4f,\"reps\":%d", workload, backend, medianMs(), gflops(), minMs(),
                reps()));
        if (!Double.isNaN(relativeError)) {
            sb.append(String.format(Locale.ROOT, ",\"rel_err_vs_libtorch\":%.3e", relativeError));
        }
        if (Double.isFinite(libtorchRatio)) {
            sb.append(String.format(Locale.ROOT, ",\"libtorch_over_ours\":%.3f", libtorchRatio));
        }
        if (Double.isFinite(ortRatio)) {
            sb.append(String.format(Locale.ROOT, ",\"onnxruntime_over_ours\":%.3f", ortRatio));
        }
        if (peak > 0) {
            sb.append(String.format(Locale.ROOT, ",\"fraction_of_peak\":%.3f", gflops() / peak));
        }
        return sb.append('}').toString();
    }
}
