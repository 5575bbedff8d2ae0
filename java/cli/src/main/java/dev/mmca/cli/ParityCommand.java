package dev.mmca.cli;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.ParityCheck;
import dev.mmca.parity.ParityReport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Checks every kernel path of every backend against the float64 reference on the user's weights and inputs, and
 * every thread count for bit-identical results; exit code 1 when a path is outside its bound.
 */
@Command(name = "parity", mixinStandardHelpOptions = true,
        description = {"Run every backend and every kernel path it can force (cpu instruction sets, cuda precisions,"
                + " java kernels) on the same weights and inputs, compare each output with the exact float64 answer,"
                + " and check that the thread counts give bit-identical results.",
            "Rows: forward.visual and forward.text against float64 (bound: fp32 1e-5, tf32 1e-3, bf16/fp16 1e-2);"
                + " decoding.visual and decoding.text (the text decoded in steps through a TextSession) against the"
                + " same path's forward (bound: fp32 1e-6), for composition cross with causal text.",
            "With --composition interleaved (--tokens and --modality, or --random): forward.out against float64 and"
                + " decoding.out (the tokens appended in steps through an InterleavedSession) against the same"
                + " path's forward.",
            "A path or thread count that is fixed when a JVM starts runs in a fresh JVM started by this command.",
            "The float64 reference is slow (plain loops): keep inputs small (the default random inputs take seconds).",
            "Exit code: 0 when every compared output is within its bound and bit-identical across thread counts,"
                + " 1 otherwise (the failing paths are named), 2 for a usage error."})
final class ParityCommand implements Callable<Integer> {
    /** Largest --threads count. */
    static final int MAX_THREADS = 1024;

    @Option(names = "--weights", required = true, description = "safetensors file with the 12 upstream tensors"
            + " (--composition interleaved: the 4 of one block).")
    Path weights;

    @Mixin
    ParityInputOptions inputs;

    @Mixin
    ConfigOptions config;

    @Option(names = "--backends", defaultValue = "all", description = "all, or backends to check, comma-separated"
            + " (java,cpu,cuda or cuda:N); a backend named here that cannot run is an error (default: all, which"
            + " skips those that cannot run).")
    String backends;

    @Option(names = "--threads", split = ",", description = "thread counts to run each path with, comma-separated"
            + " (default: 1,2 and the available processors).")
    List<Integer> threads;

    @Option(names = "--json", description = "one JSON object instead of a table.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        boolean interleaved = inputs.interleaved(config.composition(cl));
        inputs.check(cl, config, interleaved);
        List<Integer> counts = threadCounts(cl);
        List<String> requested = backendRequests(cl);
        ParityInputOptions.Loaded loaded = inputs.load(cl, config, weights, interleaved);
        ParityProblem problem = loaded.problem();
        MmcaConfig c = problem.config();
        String inputsDescription = loaded.description();

        List<KernelPath> paths = new ArrayList<>();
        for (Backend b : selectBackends(requested)) {
            paths.addAll(KernelPaths.of(b));
        }
        Path work = Files.createTempDirectory("mmca-parity");
        try {
            FreshJvmLauncher launcher = new FreshJvmLauncher(weights, problem, work);
            ParityReport report = ParityCheck.builder(problem.scenarios()).paths(paths).threads(counts)
                    .require(requested.isEmpty() ? List.of() : names(requested)).launcher(launcher)
                    .build().run();
            PrintWriter out = cl.getOut();
            if (json) {
                Map<String, String> header = new LinkedHashMap<>();
                header.put("config", c.toString());
                header.put("inputs", inputsDescription);
                header.put("threads", join(counts));
                out.println(report.json(header));
            } else {
                out.println("mmca parity: " + c);
                out.println("inputs:  " + inputsDescription);
                out.println("threads: " + join(counts) + " (this JVM: java " + dev.mmca.backend.java.JavaBackend.threads()
                        + "; counts it cannot set run in fresh JVMs)");
                out.print(report.table());
            }
            out.flush();
            if (!report.passed()) {
                cl.getErr().println("mmca parity: error: outside the bounds or failed: "
                        + String.join(", ", report.failedPaths()) + describeFailures(report));
                cl.getErr().flush();
                return 1;
            }
            if (!json) {
                long compared = report.rows().stream().filter(r -> r.comparison() != null).count();
                long skipped = report.rows().stream().filter(r -> r.status() == ParityReport.Status.SKIPPED).count();
                out.println("mmca parity: " + compared + " outputs within their bounds" + (skipped > 0 ? ", "
                        + skipped + " skipped (see above)" : ""));
                out.flush();
            }
            return 0;
        } finally {
            FreshJvmLauncher.deleteTree(work);
        }
    }

    private static String describeFailures(ParityReport report) {
        StringBuilder sb = new StringBuilder();
        for (ParityReport.Row r : report.failures()) {
            sb.append("; ").append(r.path()).append(' ').append(r.output()).append(": ").append(r.message());
        }
        return sb.toString();
    }

    private List<Integer> threadCounts(CommandLine cl) {
        if (threads == null || threads.isEmpty()) {
            List<Integer> d = new ArrayList<>();
            for (int t : new int[] {1, 2, Runtime.getRuntime().availableProcessors()}) {
                if (!d.contains(t)) {
                    d.add(t);
                }
            }
            return d;
        }
        List<Integer> counts = new ArrayList<>();
        for (Integer t : threads) {
            if (t == null || t < 1 || t > MAX_THREADS) {
                throw new CommandLine.ParameterException(cl, "--threads: expected counts from 1 to " + MAX_THREADS
                        + ", got " + t);
            }
            if (!counts.contains(t)) {
                counts.add(t);
            }
        }
        return counts;
    }

    /** The backends asked for by name (empty for all), each checked to exist. */
    private List<String> backendRequests(CommandLine cl) {
        String b = backends.trim().toLowerCase(Locale.ROOT);
        if (b.equals("all")) {
            return List.of();
        }
        List<String> requests = new ArrayList<>();
        for (String r : b.split(",")) {
            String name = r.trim();
            String base = name.contains(":") ? name.substring(0, name.indexOf(':')).trim() : name;
            if (name.isEmpty() || !Backends.names().contains(base)) {
                throw new CommandLine.ParameterException(cl, "--backends: expected all or names from "
                        + Backends.names() + " (name:N for a device), got '" + r.trim() + "'");
            }
            if (name.contains(":")) {
                try {
                    Integer.parseInt(name.substring(name.indexOf(':') + 1).trim());
                } catch (NumberFormatException e) {
                    throw new CommandLine.ParameterException(cl, "--backends: expected name or name:device with a"
                            + " device ordinal, got '" + name + "'");
                }
            }
            if (!requests.contains(name)) {
                requests.add(name);
            }
        }
        return requests;
    }

    private static List<String> names(List<String> requests) {
        return requests.stream().map(r -> r.contains(":") ? r.substring(0, r.indexOf(':')).trim() : r).toList();
    }

    private List<Backend> selectBackends(List<String> requests) throws PathArguments.Failure {
        if (requests.isEmpty()) {
            return Backends.all();
        }
        List<Backend> list = new ArrayList<>();
        for (String r : requests) {
            int colon = r.indexOf(':');
            Backend b = Backends.byName(colon < 0 ? r : r.substring(0, colon).trim());
            if (colon >= 0) {
                try {
                    b = b.onDevice(Integer.parseInt(r.substring(colon + 1).trim()));
                } catch (IllegalArgumentException e) {
                    throw new PathArguments.Failure("--backends: " + e.getMessage(), e);
                }
            }
            list.add(b);
        }
        return list;
    }

    private static String join(List<Integer> counts) {
        return String.join(",", counts.stream().map(String::valueOf).toList());
    }
}
