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
 *   <li>{@code --workloads W1,A2,D1}: default all (D1 at both its batch sizes); {@code --backends java,cpu}:
 *       default every available one;</li>
 *   <li>{@code --threads N}: for every runner (libtorch, OpenBLAS, our backends); default every core;</li>
 *   <li>{@code --reps N}: timed calls per runner, default 5; {@code --min-seconds S}: keep timing small
 *       workloads for at least S seconds per runner, default 1; {@code --warmup-seconds S}, default 1;</li>
 *   <li>{@code --small}: the reduced shapes of the unit tests;</li>
 *   <li>{@code --split}: also time the three attention calls inside each forward alone, named
 *       {@code W2.visual}, {@code W2.text}, {@code W2.cross};</li>
 *   <li>{@code --sequence-reps N}: D1, whole sequences timed per runner, default {@value #DEFAULT_SEQUENCE_REPS};
 *       {@code --rerun-budget-seconds S}: D1, time the forward-per-step peer's whole sequence when it should take
 *       at most S seconds, else estimate it from forwards at {@value #RERUN_SAMPLE_LENGTHS} lengths, default
 *       {@value #DEFAULT_RERUN_BUDGET_SECONDS}.</li>
 * </ul>
 * The decoding workload D1 has its own runners ({@link DecodeRunner}): each backend of ours through a
 * {@link dev.mmca.TextSession}, libtorch with a hand-written key/value cache (two ways of growing it), and the
 * full forward re-run at every step on each backend of ours; every decoded row is checked against the full
 * forward over the whole text (libtorch's).
 *
 * <p>The exit status is 1 when an output of ours differs from libtorch's by more than {@value #TOLERANCE}
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

    /** D1: whole sequences timed per runner by default. */
    static final int DEFAULT_SEQUENCE_REPS = 3;
    /** D1: the forward-per-step peer's whole sequence is timed when predicted within this many seconds. */
    static final double DEFAULT_RERUN_BUDGET_SECONDS = 20;
    /** D1: text lengths whose forwards estimate a forward-per-step sequence too long to time. */
    static final int RERUN_SAMPLE_LENGTHS = 8;
    /** D1: timed forwards per sampled length (after one untimed). */
    static final int RERUN_SAMPLE_REPS = 3;
    /** Bytes read per pass of the read-bandwidth measurement, and its passes. */
    static final long BANDWIDTH_BYTES = 512L << 20;
    static final int BANDWIDTH_REPEATS = 5;

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
        List<DecodeMeasurement> decodeResults = new ArrayList<>();
        List<Workload> workloads = new ArrayList<>(options.small ? Workload.small() : Workload.standard());
        workloads.addAll(options.small ? Workload.decodingSmall() : Workload.decoding());
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
                if (w.kind() == Workload.Kind.DECODE) {
                    decodeResults.addAll(measureDecode(w, ours, failures));
                    continue;
                }
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
            if (!decodeResults.isEmpty()) {
                out.println("D1: step ms = median of the last step (the cache holding every earlier text token, rolled"
                        + " back after each call); bound = the bytes a step must read over the read bandwidth; sequence"
                        + " = every step from an empty cache (the visual context encoded once before, not counted; the"
                        + " forward-per-step peer recomputes it at every step); x... = how many times faster ours is"
                        + " (peer's time over ours): per step vs the libtorch cache loops, per sequence vs the forward"
                        + " re-run per step on the same backend; rel.err against the full forward over the whole text"
                        + " (libtorch).");
            }
            out.println("Load average (1, 5, 15 min) before: " + loadBefore + ", after: " + loadAfter);
            for (Workload w : workloads) {
                out.println("  " + w);
            }
        }
        if (options.docsDir != null) {
            Path dir = Path.of(options.docsDir);
            ResultsPage.write(dir, machine, threads, workloads, results, loadBefore + " / " + loadAfter, peak,
                    decodeResults, bandwidth);
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
     * D1 at one batch size: every decoding runner first decodes the whole text once (the warm-up, and the check of
     * every row against the full forward), then the last steps alternate as in {@link #time(List)}, then whole
     * sequences alternate, {@code --sequence-reps} each. The forward-per-step peers decode the whole sequence only
     * when it fits the re-run budget; otherwise their sequence is estimated from forwards at a sample of lengths.
     */
    private List<DecodeMeasurement> measureDecode(Workload w, List<Backend> ours, List<String> failures) {
        if (!bandwidthTried) {
            bandwidthTried = true;
            measureBandwidth();
        }
        WorkloadData data = WorkloadData.generate(w, 42);
        String label = w.name() + " b=" + w.batch();
        float[] expected;
        try (TorchRunner full = new TorchRunner(data.asForward())) {
            full.run();
            float[] all = full.result();
            int visualSize = data.visual().size();
            expected = Arrays.copyOfRange(all, visualSize, all.length);
        }
        List<DecodeRunner> runners = new ArrayList<>();
        List<DecodeMeasurement.Role> roles = new ArrayList<>();
        List<String> backendNames = new ArrayList<>();
        try {
            List<Backend> supported = new ArrayList<>();
            for (Backend b : ours) {
                Support s = b.supports(w.config());
                if (s.isSupported()) {
                    supported.add(b);
                } else if (!options.json) {
                    out.println(label + ": backend " + b.name() + " skipped: " + s.reason());
                }
            }
            for (Backend b : supported) {
                add(runners, roles, backendNames, new SessionDecodeRunner(b, data), DecodeMeasurement.Role.SESSION,
                        b.name());
            }
            for (TorchKvCacheRunner.Cache c : TorchKvCacheRunner.Cache.values()) {
                add(runners, roles, backendNames, new TorchKvCacheRunner(data, c),
                        DecodeMeasurement.Role.LIBTORCH_KV_CACHE, "libtorch");
            }
            for (Backend b : supported) {
                add(runners, roles, backendNames, new ForwardPerStepRunner(b, data),
                        DecodeMeasurement.Role.FORWARD_PER_STEP, b.name());
            }

            // First calls: warm-up, the check of every decoded row, and for each forward-per-step peer whether its
            // whole sequence is affordable (Nt times the forward over all tokens, which is its longest step).
            Map<DecodeRunner, SequenceEstimate> estimates = new LinkedHashMap<>();
            double[] errors = new double[runners.size()];
            for (int i = 0; i < runners.size(); i++) {
                DecodeRunner r = runners.get(i);
                if (r instanceof ForwardPerStepRunner f) {
                    long t0 = System.nanoTime();
                    f.lastStep();
                    double longestMs = (System.nanoTime() - t0) / 1e6;
                    if (longestMs * w.textTokens() <= options.rerunBudgetSeconds * 1e3) {
                        f.decodeSequence();
                    } else {
                        estimates.put(f, estimateSequence(f));
                    }
                    errors[i] = decodedError(r, expected, w);
                } else {
                    r.decodeSequence();
                    double sequenceError = decodedError(r, expected, w);
                    r.lastStep();
                    errors[i] = Math.max(sequenceError, decodedError(r, expected, w));
                }
                if (!(errors[i] <= TOLERANCE)) {
                    failures.add(String.format(Locale.ROOT, "%s on %s: relative error %.3e vs the full forward"
                            + " (libtorch)", r.name(), label, errors[i]));
                }
            }

            List<Runner> stepRunners = new ArrayList<>();
            List<Runner> sequenceRunners = new ArrayList<>();
            for (DecodeRunner r : runners) {
                stepRunners.add(asRunner(r, r::lastStep));
                if (!estimates.containsKey(r)) {
                    sequenceRunners.add(asRunner(r, r::decodeSequence));
                }
            }
            double[][] stepTimes = time(stepRunners);
            double[][] sequenceTimes = timeSequences(sequenceRunners, options.sequenceReps);

            double boundMs = w.stepBytes() / (bandwidth * 1e6);
            List<DecodeMeasurement> ms = new ArrayList<>();
            int timed = 0;
            for (int i = 0; i < runners.size(); i++) {
                DecodeRunner r = runners.get(i);
                SequenceEstimate e = estimates.get(r);
                double[] sequence = e == null ? sequenceTimes[timed++] : new double[0];
                ms.add(new DecodeMeasurement(w, r.name(), backendNames.get(i), roles.get(i), stepTimes[i], sequence,
                        e == null ? Double.NaN : e.ms, e == null ? new int[0] : e.lengths, boundMs, errors[i]));
            }
            for (DecodeMeasurement m : ms) {
                emitDecode(m, ms);
            }
            return ms;
        } finally {
            for (DecodeRunner r : runners) {
                r.close();
            }
        }
    }

    private static void add(List<DecodeRunner> runners, List<DecodeMeasurement.Role> roles, List<String> backends,
            DecodeRunner r, DecodeMeasurement.Role role, String backend) {
        runners.add(r);
        roles.add(role);
        backends.add(backend);
    }

    /** A {@link Runner} whose timed call is {@code call} of {@code r} (closing is left to the caller). */
    private static Runner asRunner(DecodeRunner r, Runnable call) {
        return new Runner() {
            @Override
            public String name() {
                return r.name();
            }

            @Override
            public void run() {
                call.run();
            }

            @Override
            public int settleMillis() {
                return r.settleMillis();
            }

            @Override
            public float[] result() {
                return r.decodedRows();
            }

            @Override
            public void close() {
            }
        };
    }

    /**
     * The relative error of {@code r}'s decoded rows against the rows {@code expected [B, Nt, dim]} of the full
     * forward, over the positions it decoded.
     */
    static double decodedError(DecodeRunner r, float[] expected, Workload w) {
        int[] positions = r.decodedPositions();
        if (positions.length == 0) {
            throw new IllegalStateException(r.name() + ": no rows decoded to check");
        }
        float[] rows = r.decodedRows();
        int dim = w.dim();
        int nt = w.textTokens();
        float[] got = new float[w.batch() * positions.length * dim];
        float[] want = new float[got.length];
        int at = 0;
        for (int b = 0; b < w.batch(); b++) {
            for (int p : positions) {
                System.arraycopy(rows, (b * nt + p) * dim, got, at, dim);
                System.arraycopy(expected, (b * nt + p) * dim, want, at, dim);
                at += dim;
            }
        }
        return RelativeError.of(got, want);
    }

    /** A forward-per-step sequence estimated from forwards at some lengths. */
    private record SequenceEstimate(double ms, int[] lengths) {
    }

    /**
     * The forward-per-step peer's whole sequence, estimated: the forward at {@value #RERUN_SAMPLE_LENGTHS} text
     * lengths spread evenly over 1..Nt (the first and the last among them) timed alone, median of
     * {@value #RERUN_SAMPLE_REPS} calls after one untimed, then the times linearly interpolated between these
     * lengths and summed over every step.
     */
    private SequenceEstimate estimateSequence(ForwardPerStepRunner f) {
        int[] lengths = sampleLengths(f.textTokens(), RERUN_SAMPLE_LENGTHS);
        double[] medians = new double[lengths.length];
        for (int i = 0; i < lengths.length; i++) {
            int length = lengths[i];
            Runner atLength = asRunner(f, () -> f.forwardAt(length));
            double[] t = time(List.of(atLength), RERUN_SAMPLE_REPS, 0, 0)[0];
            medians[i] = median(t);
        }
        return new SequenceEstimate(integrate(lengths, medians, f.textTokens()), lengths);
    }

    /** {@code count} distinct lengths spread evenly over {@code 1..textTokens}, both ends included. */
    static int[] sampleLengths(int textTokens, int count) {
        if (textTokens < 1 || count < 2) {
            throw new IllegalArgumentException("textTokens, count: expected at least 1 token and 2 lengths, got "
                    + textTokens + " and " + count);
        }
        return java.util.stream.IntStream.range(0, count)
                .map(i -> 1 + (int) Math.round((double) i * (textTokens - 1) / (count - 1))).distinct().toArray();
    }

    /**
     * The sum over every length {@code 1..textTokens} of the time at that length, linearly interpolated between
     * the {@code lengths} (increasing, the first 1 and the last {@code textTokens}) timed at {@code ms}.
     */
    static double integrate(int[] lengths, double[] ms, int textTokens) {
        if (lengths.length != ms.length || lengths.length == 0 || lengths[0] != 1
                || lengths[lengths.length - 1] != textTokens) {
            throw new IllegalArgumentException("lengths: expected increasing lengths from 1 to " + textTokens
                    + " with one time each, got " + Arrays.toString(lengths) + " and " + ms.length + " times");
        }
        double sum = ms[0];
        for (int k = 1; k < lengths.length; k++) {
            int a = lengths[k - 1];
            int b = lengths[k];
            for (int length = a + 1; length <= b; length++) {
                sum += ms[k - 1] + (ms[k] - ms[k - 1]) * (length - a) / (double) (b - a);
            }
        }
        return sum;
    }

    private static double median(double[] times) {
        double[] s = times.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    /**
     * Whole sequences: {@code reps} rounds, one sequence per runner each, rotating who goes first; no warm-up
     * (each runner has just decoded a sequence for the check).
     */
    private static double[][] timeSequences(List<Runner> runners, int reps) {
        int n = runners.size();
        double[][] times = new double[n][reps];
        for (int round = 0; round < reps; round++) {
            for (int j = 0; j < n; j++) {
                int i = (j + round) % n;
                long t0 = System.nanoTime();
                runners.get(i).run();
                times[i][round] = (System.nanoTime() - t0) / 1e6;
                Runner.settle(runners.get(i));
            }
        }
        return times;
    }

    /** The read bandwidth for the D1 bounds, measured once in the run (NaN, and no bound, when it cannot be). */
    private void measureBandwidth() {
        try {
            bandwidth = dev.mmca.cpu.CpuCalibration.readBandwidthGbs(BANDWIDTH_BYTES, BANDWIDTH_REPEATS);
        } catch (RuntimeException | LinkageError e) {
            bandwidth = Double.NaN;
            System.err.println("compare: read bandwidth not measured (" + e + "); D1 is shown without its bound");
            return;
        }
        if (options.json) {
            out.printf(Locale.ROOT, "{\"workload\":\"bandwidth\",\"backend\":\"native\",\"gbs\":%.2f}%n", bandwidth);
        } else {
            out.printf(Locale.ROOT, "read bandwidth: %.2f GB/s (%d passes over %d MiB, best)%n", bandwidth,
                    BANDWIDTH_REPEATS, BANDWIDTH_BYTES >> 20);
        }
        out.flush();
    }

    /**
     * Alternates the runners after a warm-up of about a second each, until every runner has
     * {@code reps} timed calls and at least {@code minSeconds} of them. Each turn of a runner is a
     * short burst of consecutive calls (about {@value #BURST_MS} ms, at least one call), rotating who
     * goes first: switching after every call would let one runtime's worker threads, still spinning
     * after its call, take the cores from the next runner's first microseconds, which distorts
     * sub-millisecond calls. After a turn of a runtime that spins for long (libtorch), the machine idles
     * for the runner's {@link Runner#settleMillis()}, which is not timed.
     */
    private double[][] time(List<? extends Runner> runners) {
        return time(runners, options.reps, options.minSeconds, options.warmupSeconds);
    }

    /** As {@link #time(List)}, with {@code reps} calls and {@code minSeconds} of them after {@code warmupSeconds}. */
    private double[][] time(List<? extends Runner> runners, int reps, double minSeconds, double warmupSeconds) {
        int n = runners.size();
        double[] warmupMs = new double[n];
        int[] warmupCalls = new int[n];
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        do {
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                runners.get(i).run();
                warmupMs[i] += (System.nanoTime() - t0) / 1e6;
                warmupCalls[i]++;
                Runner.settle(runners.get(i));
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
                done &= times.get(i).size() >= reps && total[i] >= minSeconds * 1e3;
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
                Runner.settle(runners.get(i));
            }
        }
        double[][] outTimes = new double[n][];
        for (int i = 0; i < n; i++) {
            outTimes[i] = times.get(i).stream().mapToDouble(Double::doubleValue).toArray();
        }
        return outTimes;
    }

    /** The table whose header was printed last, so that each block of rows gets the header it needs. */
    private enum Table { MAIN, DECODE }

    private Table tableShown;
    private double peak;
    /** Read bandwidth in GB/s for the D1 bounds; NaN until measured. */
    private double bandwidth = Double.NaN;
    private boolean bandwidthTried;
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
        if (tableShown != Table.MAIN) {
            out.printf(Locale.ROOT, "%-10s %-11s %11s %10s %8s %14s %9s %20s%n", "workload", "backend", "median ms",
                    "GFLOP/s", "of peak", "libtorch/ours", "ort/ours", "rel.err vs libtorch");
            tableShown = Table.MAIN;
        }
        out.printf(Locale.ROOT, "%-10s %-11s %11.3f %10.2f %7.1f%% %14s %9s %20s%n", m.workload(), m.backend(),
                m.medianMs(), m.gflops(), 100 * m.gflops() / peak, ratio(torchRatio), ratio(ortRatio),
                Double.isNaN(m.relativeError()) ? "" : String.format(Locale.ROOT, "%.2e", m.relativeError()));
        out.flush();
    }

    private void emitDecode(DecodeMeasurement m, List<DecodeMeasurement> all) {
        if (options.json) {
            out.println(m.toJson(all));
            out.flush();
            return;
        }
        if (tableShown != Table.DECODE) {
            out.printf(Locale.ROOT, "%n%-8s %5s %-26s %9s %9s %7s %13s %10s %9s %13s %10s%n", "workload", "batch",
                    "runner", "step ms", "bound ms", "/bound", "sequence ms", "rel.err", "x kv-cat", "x kv-prealloc",
                    "x fwd/step");
            tableShown = Table.DECODE;
        }
        String sequence = String.format(Locale.ROOT, m.sequenceEstimated() ? "~%.1f" : "%.1f", m.sequenceMs());
        out.printf(Locale.ROOT, "%-8s %5d %-26s %9.3f %9s %7s %13s %10s %9s %13s %10s%n", m.workload().name(),
                m.workload().batch(), m.runner(), m.stepMs(), Double.isFinite(m.boundMs())
                        ? String.format(Locale.ROOT, "%.3f", m.boundMs()) : "-", ratio(m.stepOverBound()), sequence,
                Double.isNaN(m.relativeError()) ? "" : String.format(Locale.ROOT, "%.2e", m.relativeError()),
                ratio(m.stepSpeedupOver(all, TorchKvCacheRunner.Cache.CONCATENATED.runnerName())),
                ratio(m.stepSpeedupOver(all, TorchKvCacheRunner.Cache.PREALLOCATED.runnerName())),
                ratio(m.sequenceSpeedupOverForwardPerStep(all)));
        if (m.sequenceEstimated()) {
            out.println("         ~ " + m.runner() + ": sequence estimated from the forward at "
                    + m.lengthsTimed().length + " text lengths " + Arrays.toString(m.lengthsTimed())
                    + ", interpolated linearly over the " + m.workload().textTokens() + " steps");
        }
        out.flush();
    }

    private static String ratio(double r) {
        return Double.isFinite(r) ? String.format(Locale.ROOT, "%.2f", r) : "";
    }

    /** Command-line options. */
    static final class Options {
        static final String USAGE = "usage: Compare [--json] [--write-docs DIR] [--workloads W1,W2,A1,A2,A3,D1]"
                + " [--backends java,cpu] [--threads N] [--reps N] [--min-seconds S] [--warmup-seconds S]"
                + " [--small] [--split] [--sequence-reps N] [--rerun-budget-seconds S]";

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
        int sequenceReps = DEFAULT_SEQUENCE_REPS;
        double rerunBudgetSeconds = DEFAULT_RERUN_BUDGET_SECONDS;

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
                    case "--sequence-reps": o.sequenceReps = positiveInt(value(args, ++i, a), a); break;
                    case "--rerun-budget-seconds": o.rerunBudgetSeconds = nonNegative(value(args, ++i, a), a); break;
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
