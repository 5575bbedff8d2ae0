package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.ParityCheck;
import dev.mmca.parity.ParityReport;
import dev.mmca.parity.ParityScenarios;
import dev.mmca.parity.SeededInputs;
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
            "A path or thread count that is fixed when a JVM starts runs in a fresh JVM started by this command.",
            "The float64 reference is slow (plain loops): keep inputs small (the default random inputs take seconds).",
            "Exit code: 0 when every compared output is within its bound and bit-identical across thread counts,"
                + " 1 otherwise (the failing paths are named), 2 for a usage error."})
final class ParityCommand implements Callable<Integer> {
    /** Largest --batch and token counts of --random; the reference's time grows with their product. */
    static final int MAX_RANDOM_SIZE = 1 << 16;
    /** Largest --threads count. */
    static final int MAX_THREADS = 1024;

    @Option(names = "--weights", required = true, description = "safetensors file with the 12 upstream tensors.")
    Path weights;

    @Option(names = "--visual", description = "visual tokens [B, Nv, dim] (.npy, <f4 or <f8).")
    Path visual;

    @Option(names = "--text", description = "text tokens [B, Nt, dim] (.npy, <f4 or <f8).")
    Path text;

    @Option(names = "--visual-mask", description = "visual mask [B, Nv] (.npy, |b1 or |u1; true = real token).")
    Path visualMask;

    @Option(names = "--text-mask", description = "text mask [B, Nt] (.npy, |b1 or |u1; true = real token).")
    Path textMask;

    @Option(names = "--random", description = "standard-normal tokens from --seed and random padding masks instead"
            + " of files.")
    boolean random;

    @Option(names = "--batch", description = "with --random: batch elements (default 3).")
    Integer batch;

    @Option(names = "--visual-tokens", description = "with --random: visual tokens (default 17).")
    Integer visualTokens;

    @Option(names = "--text-tokens", description = "with --random: text tokens (default 13; for composition seed,"
            + " the visual tokens).")
    Integer textTokens;

    @Option(names = "--seed", description = "with --random: the seed of tokens and masks (default 1).")
    Long seed;

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
        checkInputOptions(cl);
        List<Integer> counts = threadCounts(cl);
        List<String> requested = backendRequests(cl);
        List<PathArguments.Named> inputs = new ArrayList<>();
        inputs.add(new PathArguments.Named("--weights", weights));
        if (!random) {
            inputs.add(new PathArguments.Named("--visual", visual));
            inputs.add(new PathArguments.Named("--text", text));
            if (visualMask != null) {
                inputs.add(new PathArguments.Named("--visual-mask", visualMask));
            }
            if (textMask != null) {
                inputs.add(new PathArguments.Named("--text-mask", textMask));
            }
        }
        PathArguments.check(inputs, List.of());
        var overrides = config.overrides(cl);
        LoadedModel model = PathArguments.reading("--weights", weights, () -> ModelFiles.read(weights, overrides));
        for (String w : model.warnings()) {
            cl.getErr().println("mmca parity: warning: " + w);
        }
        MmcaConfig c = model.config();
        MmcaInputs in = random ? randomInputs(cl, c) : fileInputs();
        String inputsDescription = random
                ? String.format(Locale.ROOT, "random (seed %d): batch %d, %d visual and %d text tokens, padding masks",
                        seedValue(), in.batch(), in.visualTokens(), in.textTokens())
                : "--visual " + visual + " --text " + text + (visualMask == null ? "" : " --visual-mask " + visualMask)
                        + (textMask == null ? "" : " --text-mask " + textMask) + String.format(Locale.ROOT,
                        " (batch %d, %d visual and %d text tokens)", in.batch(), in.visualTokens(), in.textTokens());
        try {
            in.validate(c);
        } catch (IllegalArgumentException e) {
            throw PathArguments.attribute(e, inputs);
        }

        List<KernelPath> paths = new ArrayList<>();
        for (Backend b : selectBackends(requested)) {
            paths.addAll(KernelPaths.of(b));
        }
        Path work = Files.createTempDirectory("mmca-parity");
        try {
            FreshJvmLauncher launcher = new FreshJvmLauncher(weights, c, in, work);
            ParityReport report = ParityCheck.builder(ParityScenarios.standard(c, model.weights(), in)).paths(paths)
                    .threads(counts).require(requested.isEmpty() ? List.of() : names(requested)).launcher(launcher)
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

    private void checkInputOptions(CommandLine cl) {
        List<String> files = new ArrayList<>();
        for (Object[] o : new Object[][] {{"--visual", visual}, {"--text", text}, {"--visual-mask", visualMask},
            {"--text-mask", textMask}}) {
            if (o[1] != null) {
                files.add((String) o[0]);
            }
        }
        if (random && !files.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "--random: expected either --random or input files, got"
                    + " both (" + String.join(", ", files) + ")");
        }
        if (!random) {
            if (visual == null || text == null) {
                throw new CommandLine.ParameterException(cl, (visual == null ? "--visual" : "--text")
                        + ": expected --visual and --text (or --random), got " + (files.isEmpty() ? "neither"
                        : "only " + String.join(", ", files)));
            }
            for (Object[] o : new Object[][] {{"--batch", batch}, {"--visual-tokens", visualTokens},
                {"--text-tokens", textTokens}, {"--seed", seed}}) {
                if (o[1] != null) {
                    throw new CommandLine.ParameterException(cl, o[0] + ": expected only with --random, got it with"
                            + " --visual and --text");
                }
            }
            return;
        }
        for (Object[] o : new Object[][] {{"--batch", batch}, {"--visual-tokens", visualTokens},
            {"--text-tokens", textTokens}}) {
            Integer v = (Integer) o[1];
            if (v != null && (v < 1 || v > MAX_RANDOM_SIZE)) {
                throw new CommandLine.ParameterException(cl, o[0] + ": expected 1 to " + MAX_RANDOM_SIZE + ", got " + v);
            }
        }
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

    private long seedValue() {
        return seed == null ? 1 : seed;
    }

    private MmcaInputs randomInputs(CommandLine cl, MmcaConfig c) {
        int b = batch == null ? 3 : batch;
        int nv = visualTokens == null ? 17 : visualTokens;
        int nt = textTokens == null ? (c.composition() == Composition.SEED ? nv : 13) : textTokens;
        if (c.composition() == Composition.SEED && nt != nv) {
            throw new CommandLine.ParameterException(cl, "--text-tokens: composition seed adds visual and text token"
                    + " by token, so it expected as many text tokens as visual tokens (" + nv + "), got " + nt);
        }
        long elements = (long) b * Math.max(nv, nt) * c.dim();
        if (elements > Integer.MAX_VALUE - 8) {
            throw new CommandLine.ParameterException(cl, "--batch: batch " + b + " with " + Math.max(nv, nt)
                    + " tokens of width " + c.dim() + " is " + elements + " values, expected at most 2^31-9");
        }
        return SeededInputs.modelInputs(c, seedValue(), b, nv, nt, true);
    }

    private MmcaInputs fileInputs() throws PathArguments.Failure {
        FloatTensor v = PathArguments.reading("--visual", visual, () -> Npy.read(visual).toFloatTensor());
        FloatTensor t = PathArguments.reading("--text", text, () -> Npy.read(text).toFloatTensor());
        Mask vm = visualMask == null ? null
                : PathArguments.reading("--visual-mask", visualMask, () -> Npy.read(visualMask).toMask());
        Mask tm = textMask == null ? null
                : PathArguments.reading("--text-mask", textMask, () -> Npy.read(textMask).toMask());
        return new MmcaInputs(v, t, vm, tm);
    }

    private static String join(List<Integer> counts) {
        return String.join(",", counts.stream().map(String::valueOf).toList());
    }
}
