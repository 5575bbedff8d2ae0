package dev.mmca.bench;

import dev.mmca.workload.Workload;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.backend.Support;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Times our backends and libtorch on the same workloads, alternately, in one JVM, and checks on the
 * way that they compute the same numbers.
 *
 * <pre>
 * mvn -B -q -pl java/bench -am -Pcompare package -DskipTests -Dcompare.args="--write-docs docs --split"
 * </pre>
 *
 * Options:
 * <ul>
 *   <li>{@code --json}: one JSON object per measurement instead of a table;</li>
 *   <li>{@code --write-docs DIR}: regenerate DIR/benchmarks.md's results section and DIR/img/benchmarks.png;</li>
 *   <li>{@code --workloads W1,A2}: default all; {@code --backends java,cpu}: default every available one;</li>
 *   <li>{@code --threads N}: for every runner (libtorch, OpenBLAS, our backends); default every core;</li>
 *   <li>{@code --reps N}: timed calls per runner, default 5; {@code --min-seconds S}: keep timing small
 *       workloads for at least S seconds per runner, default 1; {@code --warmup-seconds S}, default 1;</li>
 *   <li>{@code --small}: the reduced shapes of the unit tests;</li>
 *   <li>{@code --split}: also time the three attention calls inside each forward alone, named
 *       {@code W2.visual}, {@code W2.text}, {@code W2.cross}.</li>
 * </ul>
 * The exit status is 1 when an output of ours differs from libtorch's by more than {@value #TOLERANCE}
 * relative error, 2 on bad options.
 */
public final class Compare {
    /** Largest accepted relative error between our output and libtorch's. */
    public static final double TOLERANCE = 1e-4;
    /** Edge of the square sgemm used as the calibration row. */
    public static final int SGEMM_SIZE = 2048;
    /** Target length of one runner's burst of consecutive timed calls. */
    static final double BURST_MS = 50;
    /** How to regenerate the results page (printed on it). */
    public static final String DOCS_COMMAND =
            "mvn -B -q -pl java/bench -am -Pcompare package -DskipTests -Dcompare.args=\"--write-docs docs --split\"";

    /** Thread-count properties of the {@code java} and {@code cpu} backends. */
    static final String JAVA_THREADS_PROPERTY = "mmca.java.threads";
    static final String CPU_THREADS_PROPERTY = "mmca.cpu.threads";

    private final Options options;
    private final PrintStream out;

    Compare(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public static void main(String[] args) {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("compare: " + e.getMessage());
            System.err.println(Options.USAGE);
            System.exit(2);
            return;
        }
        int status;
        try {
            status = new Compare(options, System.out).run();
        } catch (IllegalArgumentException e) {
            System.err.println("compare: " + e.getMessage());
            status = 2;
        } catch (IOException e) {
            System.err.println("compare: " + e);
            status = 3;
        }
        System.exit(status);
    }

    /** Runs everything; returns the exit status. */
    int run() throws IOException {
        MachineInfo machine = MachineInfo.detect();
        int threads = options.threads > 0 ? options.threads : Runtime.getRuntime().availableProcessors();
        if (options.threads > 0) {
            // Read once when each backend starts its pool, so set before any backend is touched.
            System.setProperty(JAVA_THREADS_PROPERTY, Integer.toString(threads));
            System.setProperty(CPU_THREADS_PROPERTY, Integer.toString(threads));
        }
        TorchPeer.setThreads(threads);
        this.threads = threads;
        List<Backend> ours = selectBackends();
        if (!options.json) {
            machine.lines().forEach(out::println);
            out.println("Threads: " + threads + " (libtorch at::set_num_threads, OpenBLAS, and each backend of ours)");
            out.println("libtorch: org.bytedeco:pytorch:" + TorchPeer.PRESETS_VERSION);
            out.println("onnxruntime: " + OrtRunner.version() + " (CPU execution provider, optimisation ALL, spinning"
                    + " off; the model as torch.onnx.export writes it)");
            for (Backend b : Backends.all()) {
                out.println("Backend " + b.name() + ": " + b.availability());
            }
            out.println();
        }

        List<Measurement> results = new ArrayList<>();
        List<Workload> workloads = options.small ? Workload.small() : Workload.standard();
        if (options.workloads != null) {
            workloads = Workload.select(workloads, options.workloads);
        }
        List<String> failures = new ArrayList<>();
        String loadBefore = MachineInfo.loadAverage();
        String loadAfter;
        // The calibration is timed before and after the workloads, and both samples are pooled, so one
        // busy moment of a shared machine does not set the ceiling.
        peak = dev.mmca.cpu.CpuCalibration.fmaPeakGflops(1.0);
        emitPeak();
        try (SgemmCalibration sgemm = new SgemmCalibration(SGEMM_SIZE, threads)) {
            double[] before = time(List.of(sgemm))[0];
            for (Workload w : workloads) {
                results.addAll(measure(w, ours, failures));
                if (options.split && w.kind() == Workload.Kind.FORWARD) {
                    for (Workload part : w.attentionParts()) {
                        results.addAll(measure(part, ours, failures));
                    }
                }
            }
            loadAfter = MachineInfo.loadAverage();
            double[] after = time(List.of(sgemm))[0];
            double[] all = Arrays.copyOf(before, before.length + after.length);
            System.arraycopy(after, 0, all, before.length, after.length);
            Measurement m = new Measurement("sgemm" + SGEMM_SIZE, sgemm.name(), sgemm.flops(), all, Double.NaN);
            results.add(0, m);
            emit(m, Double.NaN, Double.NaN);
            // the peak again after the workloads, pooled as for sgemm: one busy moment does not set it
            peak = Math.max(peak, dev.mmca.cpu.CpuCalibration.fmaPeakGflops(1.0));
            emitPeak();
        }

        if (!options.json) {
            out.println();
            out.println("libtorch/ours, ort/ours = the peer's speed over ours (> 1: the peer is faster); of peak ="
                    + " GFLOP/s over the FMA peak " + String.format(Locale.ROOT, "%.1f", peak) + " GFLOP/s.");
            out.println("Load average (1, 5, 15 min) before: " + loadBefore + ", after: " + loadAfter);
            for (Workload w : workloads) {
                out.println("  " + w);
            }
        }
        if (options.docsDir != null) {
            Path dir = Path.of(options.docsDir);
            ResultsPage.write(dir, machine, threads, workloads, results, loadBefore + " / " + loadAfter, peak);
            if (!options.json) {
                out.println("wrote " + dir.resolve(ResultsPage.PAGE) + " and " + dir.resolve(ResultsPage.CHART));
            }
        }
        if (!failures.isEmpty()) {
            System.err.println("compare: outputs differ from libtorch beyond " + TOLERANCE + ":");
            failures.forEach(f -> System.err.println("  " + f));
            return 1;
        }
        return 0;
    }

    private List<Backend> selectBackends() {
        List<Backend> list = new ArrayList<>();
        if (options.backends != null) {
            for (String name : options.backends) {
                Backend b = Backends.byName(name.trim());
                if (!b.availability().isAvailable()) {
                    throw new IllegalArgumentException("backend '" + name + "' is not available: "
                            + b.availability().reason());
                }
                list.add(b);
            }
            return list;
        }
        for (Backend b : Backends.all()) {
            if (b.availability().isAvailable()) {
                list.add(b);
            }
        }
        return list;
    }

    private List<Measurement> measure(Workload w, List<Backend> ours, List<String> failures) {
        WorkloadData data = WorkloadData.generate(w, 42);
        List<Runner> runners = new ArrayList<>();
        try {
            for (Backend b : ours) {
                Support s = w.kind() == Workload.Kind.FORWARD ? b.supports(w.config()) : b.supports(w.problem());
                if (!s.isSupported()) {
                    if (!options.json) {
                        out.println(w.name() + ": backend " + b.name() + " skipped: " + s.reason());
                    }
                    continue;
                }
                runners.add(new BackendRunner(b, data));
            }
            TorchRunner peer = new TorchRunner(data);
            runners.add(peer);
            OrtRunner ort = new OrtRunner(data, threads);
            runners.add(ort);

            // First calls: warm-up, and the check that everyone computes the same function.
            for (Runner r : runners) {
                r.run();
            }
            float[] expected = peer.result();
            Map<String, Double> errors = new LinkedHashMap<>();
            for (Runner r : runners) {
                if (r != peer) {
                    double e = RelativeError.of(r.result(), expected);
                    errors.put(r.name(), e);
                    if (!(e <= TOLERANCE)) {
                        failures.add(String.format(Locale.ROOT, "%s on %s: relative error %.3e vs libtorch",
                                r.name(), w.name(), e));
                    }
                }
            }

            double[][] times = time(runners);
            List<Measurement> ms = new ArrayList<>();
            for (int i = 0; i < runners.size(); i++) {
                String name = runners.get(i).name();
                ms.add(new Measurement(w.name(), name, w.flops(), times[i], errors.getOrDefault(name, Double.NaN)));
            }
            Measurement torchM = ms.get(ms.size() - 2);
            Measurement ortM = ms.get(ms.size() - 1);
            for (Measurement m : ms) {
                boolean isPeer = m == torchM || m == ortM;
                emit(m, isPeer ? Double.NaN : m.medianMs() / torchM.medianMs(),
                        isPeer ? Double.NaN : m.medianMs() / ortM.medianMs());
            }
            return ms;
        } finally {
            for (Runner r : runners) {
                r.close();
            }
        }
    }

    /**
     * Alternates the runners after a warm-up of about a second each, until every runner has
     * {@code reps} timed calls and at least {@code minSeconds} of them. Each turn of a runner is a
     * short burst of consecutive calls (about {@value #BURST_MS} ms, at least one call), rotating who
     * goes first: switching after every call would let one runtime's worker threads, still spinning
     * after its call, take the cores from the next runner's first microseconds, which distorts
     * sub-millisecond calls.
     */
    private double[][] time(List<? extends Runner> runners) {
        int n = runners.size();
        double[] warmupMs = new double[n];
        int[] warmupCalls = new int[n];
        long warmupEnd = System.nanoTime() + (long) (options.warmupSeconds * 1e9);
        do {
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                runners.get(i).run();
                warmupMs[i] += (System.nanoTime() - t0) / 1e6;
                warmupCalls[i]++;
            }
        } while (System.nanoTime() < warmupEnd);
        int[] burst = new int[n];
        for (int i = 0; i < n; i++) {
            double perCall = Math.max(1e-3, warmupMs[i] / warmupCalls[i]);
            burst[i] = (int) Math.max(1, Math.min(1000, Math.ceil(BURST_MS / perCall)));
        }

        List<List<Double>> times = new ArrayList<>();
        double[] total = new double[n];
        for (int i = 0; i < n; i++) {
            times.add(new ArrayList<>());
        }
        for (int round = 0; round < options.maxRounds; round++) {
            boolean done = true;
            for (int i = 0; i < n; i++) {
                done &= times.get(i).size() >= options.reps && total[i] >= options.minSeconds * 1e3;
            }
            if (done) {
                break;
            }
            for (int j = 0; j < n; j++) {
                int i = (j + round) % n;
                for (int c = 0; c < burst[i]; c++) {
                    long t0 = System.nanoTime();
                    runners.get(i).run();
                    double ms = (System.nanoTime() - t0) / 1e6;
                    times.get(i).add(ms);
                    total[i] += ms;
                }
            }
        }
        double[][] outTimes = new double[n][];
        for (int i = 0; i < n; i++) {
            outTimes[i] = times.get(i).stream().mapToDouble(Double::doubleValue).toArray();
        }
        return outTimes;
    }

    private boolean headerPrinted;
    private double peak;
    private int threads;

    private void emitPeak() {
        if (options.json) {
            out.printf(Locale.ROOT, "{\"workload\":\"fma-peak\",\"backend\":\"native\",\"gflops\":%.3f}%n", peak);
        } else {
            out.printf(Locale.ROOT, "fma-peak: %.1f GFLOP/s (%d threads of independent vector FMAs)%n", peak, threads);
        }
        out.flush();
    }

    private void emit(Measurement m, double torchRatio, double ortRatio) {
        if (options.json) {
            out.println(m.toJson(m.backend().equals("libtorch") ? Double.NaN : torchRatio, ortRatio, peak));
            return;
        }
        if (!headerPrinted) {
            out.printf(Locale.ROOT, "%-10s %-11s %11s %10s %8s %14s %9s %20s%n", "workload", "backend", "median ms",
                    "GFLOP/s", "of peak", "libtorch/ours", "ort/ours", "rel.err vs libtorch");
            headerPrinted = true;
        }
        out.printf(Locale.ROOT, "%-10s %-11s %11.3f %10.2f %7.1f%% %14s %9s %20s%n", m.workload(), m.backend(),
                m.medianMs(), m.gflops(), 100 * m.gflops() / peak, ratio(torchRatio), ratio(ortRatio),
                Double.isNaN(m.relativeError()) ? "" : String.format(Locale.ROOT, "%.2e", m.relativeError()));
        out.flush();
    }

    private static String ratio(double r) {
        return Double.isFinite(r) ? String.format(Locale.ROOT, "%.2f", r) : "";
    }

    /** Command-line options. */
    static final class Options {
        static final String USAGE = "usage: Compare [--json] [--write-docs DIR] [--workloads W1,W2,A1,A2,A3]"
                + " [--backends java,cpu] [--threads N] [--reps N] [--min-seconds S] [--warmup-seconds S]"
                + " [--small] [--split]";

        boolean json;
        String docsDir;
        List<String> workloads;
        List<String> backends;
        int threads;
        int reps = 5;
        int maxRounds = 1000;
        double minSeconds = 1.0;
        double warmupSeconds = 1.0;
        boolean small;
        boolean split;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--json": o.json = true; break;
                    case "--small": o.small = true; break;
                    case "--split": o.split = true; break;
                    case "--write-docs": o.docsDir = value(args, ++i, a); break;
                    case "--workloads": o.workloads = Arrays.asList(value(args, ++i, a).split(",")); break;
                    case "--backends": o.backends = Arrays.asList(value(args, ++i, a).split(",")); break;
                    case "--threads": o.threads = positiveInt(value(args, ++i, a), a); break;
                    case "--reps": o.reps = positiveInt(value(args, ++i, a), a); break;
                    case "--min-seconds": o.minSeconds = nonNegative(value(args, ++i, a), a); break;
                    case "--warmup-seconds": o.warmupSeconds = nonNegative(value(args, ++i, a), a); break;
                    default:
                        throw new IllegalArgumentException("unknown option '" + a + "'");
                }
            }
            return o;
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) {
                throw new IllegalArgumentException(option + ": expected a value, got the end of the arguments");
            }
            return args[i];
        }

        private static int positiveInt(String s, String option) {
            try {
                int v = Integer.parseInt(s.trim());
                if (v > 0) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + ": expected a positive integer, got '" + s + "'");
        }

        private static double nonNegative(String s, String option) {
            try {
                double v = Double.parseDouble(s.trim());
                if (v >= 0 && Double.isFinite(v)) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(option + ": expected a non-negative number, got '" + s + "'");
        }
    }
}
