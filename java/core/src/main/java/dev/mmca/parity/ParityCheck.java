package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backends;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Runs scenarios on kernel paths and judges them: every available path, at every thread count it has, computes
 * every applicable scenario; the first run's outputs are compared with their expectations (the float64
 * reference, or another output of the same path) within the path's precision's bound, and the other runs must
 * give the same bits. A path or thread count this JVM cannot switch to runs in a fresh JVM through the
 * {@link PathLauncher}, when there is one.
 *
 * <pre>{@code
 * ParityReport report = ParityCheck.builder(ParityScenarios.standard(config, weights, inputs))
 *         .paths(KernelPaths.all()).threads(List.of(1, 2, 8)).build().run();
 * if (!report.passed()) { ... report.failedPaths() ... }
 * }</pre>
 *
 * Not for concurrent use with other computations in the JVM: selecting a path (a kernel set, a thread count)
 * changes process-wide settings until the path is done.
 */
public final class ParityCheck {
    private final List<ParityScenario> scenarios;
    private final List<KernelPath> paths;
    private final List<Integer> threads;
    private final PathLauncher launcher;
    private final Set<String> required;

    private ParityCheck(Builder b) {
        this.scenarios = List.copyOf(b.scenarios);
        this.paths = List.copyOf(b.paths);
        this.threads = List.copyOf(b.threads);
        this.launcher = b.launcher;
        this.required = Set.copyOf(b.required);
    }

    /** A check of {@code scenarios} (names unique). */
    public static Builder builder(List<ParityScenario> scenarios) {
        return new Builder(scenarios);
    }

    /** Runs every path and returns the report; never throws for a failing path (that is a row). */
    public ParityReport run() {
        List<ParityReport.Row> rows = new ArrayList<>();
        for (KernelPath path : paths) {
            rows.addAll(check(path));
        }
        return new ParityReport(rows);
    }

    private List<ParityReport.Row> check(KernelPath path) {
        List<ParityReport.Row> rows = new ArrayList<>();
        if (!path.availability().isAvailable()) {
            // a backend asked for by name must run; one of its paths that this host lacks is still a skip
            boolean mustRun = required.contains(path.backendName())
                    && !Backends.availabilityOf(path.backend()).isAvailable();
            rows.add(ParityReport.Row.note(path, "*", mustRun ? ParityReport.Status.ERROR : ParityReport.Status.SKIPPED,
                    (mustRun ? "requested but not available: " : "not available: ") + path.availability().reason()));
            return rows;
        }
        List<ParityScenario> applicable = new ArrayList<>();
        for (ParityScenario s : scenarios) {
            String why = s.inapplicable();
            if (why == null) {
                why = s.unsupportedBy(path.backend());
                if (why != null) {
                    why = "not supported by " + path.backendName() + ": " + why;
                }
            }
            if (why != null) {
                rows.add(ParityReport.Row.note(path, s.name() + ".*", ParityReport.Status.NOT_APPLICABLE, why));
            } else {
                applicable.add(s);
            }
        }
        if (applicable.isEmpty()) {
            return rows;
        }
        List<Integer> counts = path.hasThreads() ? threads : List.of(0);
        Map<Integer, PathRun> runs = new LinkedHashMap<>();
        Map<Integer, String> notRun = new LinkedHashMap<>();
        for (int t : counts) {
            try {
                PathRun run = runOnce(path, t, applicable);
                if (run == null) {
                    notRun.put(t, notRunReason(path, t));
                } else {
                    runs.put(t, run);
                }
            } catch (Exception | LinkageError | OutOfMemoryError e) {
                rows.add(ParityReport.Row.note(path, "*", ParityReport.Status.ERROR,
                        (t > 0 ? label(t) + ": " : "") + describe(e)));
            }
        }
        if (runs.isEmpty()) {
            if (!notRun.isEmpty() && rows.stream().noneMatch(r -> r.status() == ParityReport.Status.ERROR)) {
                rows.add(ParityReport.Row.note(path, "*", ParityReport.Status.SKIPPED, String.join("; ",
                        notRun.entrySet().stream().map(e -> label(e.getKey()) + ": " + e.getValue()).toList())));
            }
            return rows;
        }
        Map.Entry<Integer, PathRun> first = runs.entrySet().iterator().next();
        Map<String, FloatTensor> outputs = first.getValue().outputs();
        for (ParityScenario s : applicable) {
            Map<Integer, Double> millis = new LinkedHashMap<>();
            for (Map.Entry<Integer, PathRun> r : runs.entrySet()) {
                Long ns = r.getValue().nanos().get(s.name());
                if (ns != null) {
                    millis.put(r.getKey(), ns / 1e6);
                }
            }
            for (Map.Entry<String, FloatTensor> o : outputs.entrySet()) {
                if (!o.getKey().startsWith(s.name() + ".")) {
                    continue;
                }
                String output = o.getKey().substring(s.name().length() + 1);
                Identity identity = identity(path, o.getKey(), runs, notRun);
                try {
                    ParityScenario.Expectation e = s.expectation(output, path.precision(), outputs);
                    Comparison c = Comparison.of(o.getValue(), e.values());
                    rows.add(ParityReport.Row.compared(path, o.getKey(), e.against(), c, e.tolerance(),
                            identity.identical, identity.note, millis));
                } catch (RuntimeException ex) {
                    rows.add(ParityReport.Row.note(path, o.getKey(), ParityReport.Status.ERROR, describe(ex)));
                }
            }
        }
        return rows;
    }

    /** The path's outputs at {@code threads} here or in a fresh JVM; null when neither can run it. */
    private PathRun runOnce(KernelPath path, int threads, List<ParityScenario> applicable) throws Exception {
        if (path.obstacleHere(threads) == null) {
            Map<String, FloatTensor> outputs = new LinkedHashMap<>();
            Map<String, Long> nanos = new LinkedHashMap<>();
            try (KernelPath.Selection selected = path.select(threads)) {
                for (ParityScenario s : applicable) {
                    ParityScenario.Run run = s.run(path.backend());
                    nanos.put(s.name(), run.nanos());
                    run.outputs().forEach((k, v) -> outputs.put(s.name() + "." + k, v));
                }
            }
            return new PathRun(outputs, nanos, "this JVM");
        }
        Launch launch = path.launch(threads);
        if (launcher == null || launch == null) {
            return null;
        }
        return launcher.run(path, threads, launch, applicable.stream().map(ParityScenario::name).toList());
    }

    private String notRunReason(KernelPath path, int threads) {
        String obstacle = path.obstacleHere(threads);
        if (path.launch(threads) == null) {
            return obstacle + " (and no fresh JVM can force it)";
        }
        return obstacle + " (a fresh JVM would: " + path.launch(threads).describe() + ")";
    }

    private record Identity(Boolean identical, String note) {
    }

    private static Identity identity(KernelPath path, String key, Map<Integer, PathRun> runs,
            Map<Integer, String> notRun) {
        if (!path.hasThreads()) {
            return new Identity(null, "no thread count");
        }
        List<Integer> ran = new ArrayList<>(runs.keySet());
        String missing = notRun.isEmpty() ? "" : "; not run at " + String.join(", ", notRun.keySet().stream()
                .map(String::valueOf).toList());
        if (ran.size() < 2) {
            return new Identity(null, "only " + label(ran.get(0)) + " ran" + missing);
        }
        FloatTensor base = runs.get(ran.get(0)).outputs().get(key);
        for (int i = 1; i < ran.size(); i++) {
            FloatTensor other = runs.get(ran.get(i)).outputs().get(key);
            if (other == null) {
                return new Identity(false, label(ran.get(i)) + " did not give " + key);
            }
            int at = Comparison.firstBitDifference(base, other);
            if (at >= 0) {
                return new Identity(false, "threads " + ran.get(0) + " and " + ran.get(i) + " differ at "
                        + java.util.Arrays.toString(Comparison.position(at, base.shape())) + ": " + base.get(at) + " vs "
                        + other.get(at));
            }
        }
        return new Identity(true, "threads " + String.join(",", ran.stream().map(String::valueOf).toList()) + missing);
    }

    private static String label(int threads) {
        return threads == 0 ? "the default thread count" : "threads " + threads;
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        String s = e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
        Throwable c = e.getCause();
        if (c != null && c != e && c.getMessage() != null && (m == null || !m.contains(c.getMessage()))) {
            s += " (" + c.getMessage() + ")";
        }
        return s;
    }

    /** Collects what a check runs. */
    public static final class Builder {
        private final List<ParityScenario> scenarios;
        private final List<KernelPath> paths = new ArrayList<>();
        private final List<Integer> threads = new ArrayList<>();
        private final Set<String> required = new LinkedHashSet<>();
        private PathLauncher launcher;

        private Builder(List<ParityScenario> scenarios) {
            Objects.requireNonNull(scenarios, "scenarios");
            Set<String> names = new LinkedHashSet<>();
            for (ParityScenario s : scenarios) {
                if (!names.add(s.name())) {
                    throw new IllegalArgumentException("scenarios: expected unique names, got '" + s.name()
                            + "' twice");
                }
            }
            this.scenarios = List.copyOf(scenarios);
        }

        /** The paths to check, in report order (e.g. {@link KernelPaths#all()}). */
        public Builder paths(List<KernelPath> paths) {
            this.paths.addAll(paths);
            return this;
        }

        /**
         * Thread counts for paths whose backend has one (default: the count in force); duplicates are dropped, the
         * first is the run compared with the expectations.
         */
        public Builder threads(List<Integer> counts) {
            for (int t : counts) {
                if (t < 1) {
                    throw new IllegalArgumentException("threads: expected positive counts, got " + counts);
                }
                if (!threads.contains(t)) {
                    threads.add(t);
                }
            }
            return this;
        }

        /** Runs what this JVM cannot (without one, such runs are reported as not checked). */
        public Builder launcher(PathLauncher launcher) {
            this.launcher = launcher;
            return this;
        }

        /**
         * Backends asked for by name: their being unavailable is an error, not a skip (as everywhere in the
         * library, a backend that was asked for and cannot run is never passed over silently); a path of such a
         * backend that this host cannot run (an instruction set it lacks) is still skipped.
         */
        public Builder require(java.util.Collection<String> backendNames) {
            required.addAll(backendNames);
            return this;
        }

        public ParityCheck build() {
            if (threads.isEmpty()) {
                // 0: whatever count each backend has here
                return new ParityCheck(this.withThreads(List.of(0)));
            }
            return new ParityCheck(this);
        }

        private Builder withThreads(List<Integer> counts) {
            threads.clear();
            threads.addAll(counts);
            return this;
        }
    }
}
