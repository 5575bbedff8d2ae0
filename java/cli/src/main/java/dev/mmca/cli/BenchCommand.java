package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.TextSession;
import dev.mmca.VisualContext;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.cpu.CpuCalibration;
import dev.mmca.workload.Workload;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Times the named workloads per available backend; prints median ms and GFLOP/s. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time workloads per available backend and print median ms and GFLOP/s.",
            "The workloads are those of java/bench (dev.mmca.workload.Workload, GROUPED head mapping):",
            "W1 = batch 32, 10 visual + 10 text tokens, dim 512, heads 8, kv_heads 2 (the demo's shape);",
            "W2 = batch 4, 576 visual + 512 text tokens, dim 1024, heads 16, kv_heads 4;",
            "A1 = attention only, batch 1, heads 16, kv 4, N = M = 2048, causal;",
            "A2 = attention only, batch 4, heads 16, kv 4, N = 512, M = 576;",
            "A3 = attention only, batch 1, heads 8, kv 2, N = M = 8192, causal;",
            "D1 = decoding with the W2 model: a visual context of 576 tokens, then 512 text tokens one per step, at"
                + " batch 1 and 8; median_ms is one step at the end of the sequence, bound_ms the bytes a step must"
                + " read over the read bandwidth measured in the same run;",
            "sgemm2048 = OpenBLAS sgemm 2048^3, when the cpu backend is present;",
            "bandwidth = memory read bandwidth (GB/s in the GFLOP/s column).",
            "The fp32 FMA peak of the machine is measured first (row fma-peak) and every GFLOP/s figure is also",
            "given as a fraction of it."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--backend", split = ",", description = "Backends to time (default: every available one).")
    List<String> backends;

    @Option(names = "--workloads", split = ",", defaultValue = "sgemm2048,W1,W2,A1,A2,D1",
            description = "Workloads to run (default: ${DEFAULT-VALUE}).")
    List<String> workloads;

    @Option(names = "--min-time", defaultValue = "2.0", description = "Seconds of timed runs per measurement"
            + " (at least 5 runs; default: ${DEFAULT-VALUE}).")
    double minSeconds;

    @Option(names = "--warmup", defaultValue = "1.0", description = "Seconds of warm-up per measurement"
            + " (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    /** Longest --min-time and --warmup accepted, per measurement. */
    static final int MAX_SECONDS = 3600;

    @Option(names = "--json", description = "One JSON object per line instead of a table.")
    boolean json;

    @Option(names = "--small", description = "The workloads' structures at the reduced sizes of the tests (seconds,"
            + " not minutes).")
    boolean small;

    /** The FMA peak measured at the start of the run (0: unknown). */
    private double peak;

    /** The read bandwidth in GB/s, measured once when first needed (0: not yet; negative: unavailable). */
    private double bandwidth;

    @Override
    public Integer call() {
        for (Object[] o : new Object[][] {{"--min-time", minSeconds}, {"--warmup", warmupSeconds}}) {
            double v = (Double) o[1];
            if (!(v >= 0 && v <= MAX_SECONDS)) {
                throw new IllegalArgumentException(o[0] + ": expected 0 to " + MAX_SECONDS + " seconds, got " + v);
            }
        }
        List<Backend> selected = new ArrayList<>();
        if (backends == null || backends.isEmpty()) {
            for (Backend b : Backends.all()) {
                if (Backends.availabilityOf(b).isAvailable()) {
                    selected.add(b);
                }
            }
        } else {
            for (String name : backends) {
                selected.add(Backends.select(name.trim(), null));
            }
        }
        if (!json) {
            System.out.printf("%-10s %-9s %12s %10s %8s%n", "workload", "backend", "median_ms", "GFLOP/s", "of peak");
        }
        peak = fmaPeak();
        for (String name : workloads) {
            if (name.trim().equalsIgnoreCase("sgemm2048")) {
                calibration();
                continue;
            }
            if (name.trim().equalsIgnoreCase("bandwidth")) {
                bandwidth();
                continue;
            }
            List<Workload> named;
            try {
                List<Workload> known = new ArrayList<>(small ? Workload.small() : Workload.standard());
                known.addAll(small ? Workload.decodingSmall() : Workload.decoding());
                named = Workload.select(known, List.of(name));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--workloads: expected sgemm2048, bandwidth or a workload name ("
                        + e.getMessage().replaceFirst("^workload: ", "") + ")", e);
            }
            for (Workload w : named) {
                for (Backend b : selected) {
                    switch (w.kind()) {
                        case FORWARD -> model(w, b);
                        case ATTENTION -> attention(w, b);
                        case DECODE -> decode(w, b);
                    }
                }
            }
        }
        return 0;
    }

    /** The machine's fp32 FMA peak in GFLOP/s (0 when the native library is unavailable), reported as a row. */
    private double fmaPeak() {
        double gflops;
        try {
            gflops = CpuCalibration.fmaPeakGflops(1.0);
        } catch (RuntimeException | LinkageError e) {
            System.err.println("fma-peak: skipped (" + Main.message(e) + "); no fraction of the peak is shown");
            return 0;
        }
        report("fma-peak", "native", Double.NaN, gflops);
        return gflops;
    }

    private void bandwidth() {
        double gbs;
        try {
            gbs = CpuCalibration.readBandwidthGbs(512L << 20, 5);
        } catch (RuntimeException | LinkageError e) {
            System.err.println("bandwidth: skipped (" + Main.message(e) + ")");
            bandwidth = -1;
            return;
        }
        bandwidth = gbs;
        if (json) {
            System.out.printf(Locale.ROOT, "{\"workload\":\"bandwidth\",\"backend\":\"native\",\"gbs\":%.2f}%n", gbs);
        } else {
            System.out.printf(Locale.ROOT, "%-10s %-9s %12s %10.2f %8s%n", "bandwidth", "native", "-", gbs, "GB/s");
        }
    }

    private void calibration() {
        double gflops;
        try {
            gflops = CpuCalibration.sgemmGflops(2048, 5);
        } catch (RuntimeException | LinkageError e) {
            System.err.println("sgemm2048: skipped (" + Main.message(e) + ")");
            return;
        }
        double flops = 2.0 * 2048 * 2048 * 2048;
        report("sgemm2048", "openblas", flops / gflops / 1e6, gflops);
    }

    private void model(Workload w, Backend b) {
        MmcaConfig config = w.config();
        if (!b.supports(config).isSupported()) {
            System.err.println(w.name() + " on " + b.name() + ": skipped (" + b.supports(config).reason() + ")");
            return;
        }
        MmcaWeights weights = MmcaWeights.random(config, 1);
        boolean direct = !b.name().equals("java");
        FloatTensor v = Inputs.normal(2, direct, w.batch(), w.visualTokens(), config.dim());
        FloatTensor t = Inputs.normal(3, direct, w.batch(), w.textTokens(), config.dim());
        FloatTensor ov = direct ? FloatTensor.allocateDirect(v.shape()) : FloatTensor.zeros(v.shape());
        FloatTensor ot = direct ? FloatTensor.allocateDirect(t.shape()) : FloatTensor.zeros(t.shape());
        MmcaInputs in = new MmcaInputs(v, t, null, null);
        try (SimpleMmca model = SimpleMmca.create(config, weights, b)) {
            double ms = medianMillis(() -> model.forwardInto(in, ov, ot));
            report(w.name(), b.name(), ms, w.flops() / ms / 1e6);
        }
    }

    /**
     * D1: the visual context encoded once; a whole sequence of one-token steps timed once (after one sequence of
     * warm-up); then the last step (the cache holding every earlier token) timed repeatedly, rolled back after
     * each call, for the median.
     */
    private void decode(Workload w, Backend b) {
        MmcaConfig config = w.config();
        if (!b.supports(config).isSupported()) {
            System.err.println(w.name() + " on " + b.name() + ": skipped (" + b.supports(config).reason() + ")");
            return;
        }
        if (bandwidth == 0) {
            bandwidth();
        }
        MmcaWeights weights = MmcaWeights.random(config, 1);
        boolean direct = !b.name().equals("java");
        int nt = w.textTokens();
        FloatTensor v = Inputs.normal(2, direct, w.batch(), w.visualTokens(), config.dim());
        FloatTensor t = Inputs.normal(3, direct, w.batch(), nt, config.dim());
        FloatTensor[] steps = new FloatTensor[nt];
        for (int i = 0; i < nt; i++) {
            steps[i] = t.tokens(i, 1);
        }
        FloatTensor out = direct ? FloatTensor.allocateDirect(w.batch(), 1, config.dim())
                : FloatTensor.zeros(w.batch(), 1, config.dim());
        try (SimpleMmca model = SimpleMmca.create(config, weights, b);
                VisualContext context = model.encodeVisual(v, null);
                TextSession session = model.newTextSession(context, nt)) {
            Runnable sequence = () -> {
                session.truncate(0);
                for (FloatTensor step : steps) {
                    session.appendInto(step, null, out);
                }
            };
            sequence.run();
            long t0 = System.nanoTime();
            sequence.run();
            double sequenceMs = (System.nanoTime() - t0) / 1e6;
            session.truncate(nt - 1);
            double ms = medianMillis(() -> {
                session.appendInto(steps[nt - 1], null, out);
                session.truncate(nt - 1);
            });
            double boundMs = bandwidth > 0 ? w.stepBytes() / (bandwidth * 1e6) : Double.NaN;
            reportDecode(w, b.name(), ms, boundMs, sequenceMs);
        }
    }

    private void reportDecode(Workload w, String backend, double ms, double boundMs, double sequenceMs) {
        double gflops = w.stepFlops() / ms / 1e6;
        if (json) {
            System.out.printf(Locale.ROOT, "{\"workload\":\"%s\",\"backend\":\"%s\",\"batch\":%d,\"median_ms\":%.4f,"
                    + "%s\"bytes_per_step\":%d,\"sequence_ms\":%.3f,\"steps\":%d,\"gflops\":%.2f%s}%n", w.name(),
                    backend, w.batch(), ms, Double.isNaN(boundMs) ? "" : String.format(Locale.ROOT,
                            "\"bound_ms\":%.4f,\"bandwidth_gbs\":%.2f,", boundMs, bandwidth), w.stepBytes(), sequenceMs,
                    w.textTokens(), gflops, peak > 0 ? String.format(Locale.ROOT, ",\"fraction_of_peak\":%.3f",
                            gflops / peak) : "");
        } else {
            System.out.printf(Locale.ROOT, "%-10s %-9s %12.3f %10.2f %8s   per step at token %d; %s; %d steps %.1f ms%n",
                    w.name() + " b=" + w.batch(), backend, ms, gflops, peak > 0 ? String.format(Locale.ROOT, "%.1f%%",
                            100 * gflops / peak) : "-", w.textTokens(), Double.isNaN(boundMs) ? "no bandwidth bound"
                            : String.format(Locale.ROOT, "bandwidth bound %.3f ms (%.2fx)", boundMs, ms / boundMs),
                    w.textTokens(), sequenceMs);
        }
        System.out.flush();
    }

    private void attention(Workload w, Backend b) {
        AttentionProblem p = w.problem();
        if (!b.supports(p).isSupported()) {
            System.err.println(w.name() + " on " + b.name() + ": skipped (" + b.supports(p).reason() + ")");
            return;
        }
        boolean direct = !b.name().equals("java");
        int hd = p.heads() * p.dimHead();
        int gd = p.kvHeads() * p.dimHead();
        FloatTensor q = Inputs.normal(4, direct, p.batch(), p.queries(), hd);
        FloatTensor k = Inputs.normal(5, direct, p.batch(), p.keys(), gd);
        FloatTensor v = Inputs.normal(6, direct, p.batch(), p.keys(), gd);
        FloatTensor o = direct ? FloatTensor.allocateDirect(p.batch(), p.queries(), hd)
                : FloatTensor.zeros(p.batch(), p.queries(), hd);
        double ms = medianMillis(() -> b.attention(p, q, k, v, o));
        report(w.name(), b.name(), ms, w.flops() / ms / 1e6);
    }

    private double medianMillis(Runnable body) {
        long warmEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        do {
            body.run();
        } while (System.nanoTime() < warmEnd);
        List<Long> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (minSeconds * 1e9);
        while (times.size() < 5 || (System.nanoTime() < end && times.size() < 100_000)) {
            long t0 = System.nanoTime();
            body.run();
            times.add(System.nanoTime() - t0);
        }
        long[] a = times.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(a);
        double median = a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2.0;
        return median / 1e6;
    }

    private void report(String workload, String backend, double ms, double gflops) {
        String ofPeak = peak > 0 ? String.format(Locale.ROOT, "%.3f", gflops / peak) : null;
        if (json) {
            System.out.printf(Locale.ROOT, "{\"workload\":\"%s\",\"backend\":\"%s\",%s\"gflops\":%.2f%s}%n",
                    workload, backend, Double.isNaN(ms) ? "" : String.format(Locale.ROOT, "\"median_ms\":%.4f,", ms),
                    gflops, ofPeak == null ? "" : ",\"fraction_of_peak\":" + ofPeak);
        } else {
            System.out.printf(Locale.ROOT, "%-10s %-9s %12s %10.2f %8s%n", workload, backend,
                    Double.isNaN(ms) ? "-" : String.format(Locale.ROOT, "%.3f", ms), gflops,
                    ofPeak == null ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * gflops / peak));
        }
        System.out.flush();
    }
}
