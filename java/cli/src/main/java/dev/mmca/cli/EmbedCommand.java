package dev.mmca.cli;

import dev.mmca.embed.ConsoleProgress;
import dev.mmca.embed.EmbedOptions;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.EmbedProgress;
import dev.mmca.embed.EmbedReport;
import dev.mmca.embed.ShardFailure;
import dev.mmca.io.ConfigOverrides;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Embeds a directory of input shards into a directory of output shards (resumable). */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Run SimpleMMCA over every input shard (*.safetensors with padded 'visual' [R, Nv, dim],"
                + " 'text' [R, Nt, dim] and optional 'visual_mask', 'text_mask' [R, N], 1 = real token first; or"
                + " .npy groups NAME.visual.npy, NAME.text.npy, NAME.visual_mask.npy, NAME.text_mask.npy) and write"
                + " output shards of the same names (NAME.safetensors: 'visual_out', 'text_out' and the masks).",
            "Records are batched by length; reading, computing and writing overlap. Each output shard is written"
                + " atomically, and a re-run skips shards whose complete output exists."})
final class EmbedCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--weights", required = true, description = "safetensors weights (upstream state_dict names).")
    Path weights;

    @Option(names = "--input", required = true, description = "directory of input shards (*.safetensors, or"
            + " *.visual.npy groups).")
    Path input;

    @Option(names = "--output", required = true, description = "directory for output shards (created if missing).")
    Path output;

    @Option(names = "--backend", description = "auto|java|cpu|cuda (default: auto, or mmca.backend / MMCA_BACKEND).")
    String backend;

    @Option(names = "--heads", description = "query heads, when the weights' metadata lacks them.")
    Integer heads;

    @Option(names = "--batch-tokens", defaultValue = "" + EmbedOptions.DEFAULT_BATCH_TOKENS,
            description = "padded tokens (visual + text) per forward call (default: ${DEFAULT-VALUE}).")
    int batchTokens;

    @Option(names = "--window", defaultValue = "" + EmbedOptions.DEFAULT_WINDOW,
            description = "records sorted together by length before batching (default: ${DEFAULT-VALUE}).")
    int window;

    @Option(names = "--threads", defaultValue = "1",
            description = "forward calls at once (default: ${DEFAULT-VALUE}; backends use every core already).")
    int threads;

    @Option(names = "--keep-going", description = "go on after a shard fails (the exit code is still 1).")
    boolean keepGoing;

    @Option(names = "--progress", description = "show the progress bar even without a terminal.")
    boolean progress;

    @Option(names = "--quiet", description = "print nothing but errors.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (progress && quiet) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--progress and --quiet: expected at most one of them, got both");
        }
        bounded("--threads", threads, 1, EmbedOptions.MAX_COMPUTE_THREADS, " (forward calls at once; backends"
                + " already use every core)");
        bounded("--batch-tokens", batchTokens, 1, Integer.MAX_VALUE, "");
        bounded("--window", window, 1, Integer.MAX_VALUE, "");
        if (heads != null) {
            bounded("--heads", heads, 1, Integer.MAX_VALUE, "");
        }
        EmbedOptions options;
        try {
            options = EmbedOptions.builder(weights, input, output).backend(backend).batchTokens(batchTokens)
                    .window(window).computeThreads(threads).keepGoing(keepGoing)
                    .overrides(ConfigOverrides.builder().heads(heads).build()).build();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        EmbedProgress bar = ConsoleProgress.wanted(progress, quiet) ? new ConsoleProgress(System.err)
                : EmbedProgress.NONE;
        EmbedProgress reporting = new EmbedProgress() {
            @Override public void start(int shards, long records) { bar.start(shards, records); }
            @Override public void advance(int records, long tokens) { bar.advance(records, tokens); }
            @Override public void failed(ShardFailure failure) { bar.failed(failure); }
            @Override public void finish(EmbedReport report) { bar.finish(report); }

            @Override
            public void warning(String message) {
                if (!quiet) {
                    err.println("mmca embed: warning: " + message);
                    err.flush();
                }
            }
        };
        EmbedReport report;
        try {
            report = EmbedPipeline.run(options, reporting);
        } catch (IOException | RuntimeException e) {
            throw attributed(e);
        }
        if (!quiet) {
            out.println(report.summaryLine());
        }
        if (!report.succeeded()) {
            err.println("mmca embed: error: " + report.failures().size() + " shard"
                    + (report.failures().size() == 1 ? "" : "s") + " failed:");
            for (ShardFailure f : report.failures()) {
                err.println("  " + f);
            }
            if (!keepGoing) {
                err.println("mmca embed: stopped at the first failure; --keep-going embeds the other shards");
            }
            return 1;
        }
        return 0;
    }

    private void bounded(String option, int value, int min, int max, String what) {
        if (value < min || value > max) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + ": expected " + min
                    + (max == Integer.MAX_VALUE ? " or more" : " to " + max) + what + ", got " + value);
        }
    }

    /**
     * The pipeline names its paths as its options do ({@code output: ...}) and files by their path: the
     * error as the command line names them, {@code --output: ...} or {@code --weights: PATH: ...}.
     */
    private Exception attributed(Exception e) {
        String m = String.valueOf(e.getMessage());
        for (String name : new String[] {"input", "output", "weights"}) {
            if (m.startsWith(name + ": ")) {
                return new PathArguments.Failure("--" + m, e);
            }
        }
        if (m.startsWith(weights.toString() + ":")) {
            return new PathArguments.Failure("--weights: " + m, e);
        }
        return e;
    }
}
