package dev.mmca.cli;

import dev.mmca.embed.ConsoleProgress;
import dev.mmca.embed.EmbedOptions;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.EmbedProgress;
import dev.mmca.embed.EmbedReport;
import dev.mmca.embed.ShardFailure;
import dev.mmca.io.ConfigOverrides;
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
        EmbedReport report = EmbedPipeline.run(options, bar);
        if (!quiet) {
            out.println(report.summaryLine());
        }
        if (!report.succeeded()) {
            err.println("mmca embed: " + report.failures().size() + " shard"
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
}
