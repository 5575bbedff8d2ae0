package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.MmcaConfig;
import dev.mmca.embed.SampleGenerator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Writes a small synthetic weights file and input shards, so {@code mmca embed} can be tried at once. */
@Command(name = "make-sample", mixinStandardHelpOptions = true,
        description = {"Write a seeded synthetic input set: DIR/weights.safetensors (random weights, config in the"
                + " metadata) and DIR/input/shard-NNNNN.safetensors (records of random lengths)."})
final class MakeSampleCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, description = "directory to write (created if missing).")
    Path out;

    @Option(names = "--records", defaultValue = "64", description = "records in all (default: ${DEFAULT-VALUE}).")
    int records;

    @Option(names = "--shards", defaultValue = "4", description = "input shards (default: ${DEFAULT-VALUE}).")
    int shards;

    @Option(names = "--dim", defaultValue = "64", description = "token width (default: ${DEFAULT-VALUE}).")
    int dim;

    @Option(names = "--heads", defaultValue = "4", description = "query heads (default: ${DEFAULT-VALUE}).")
    int heads;

    @Option(names = "--kv-heads", defaultValue = "2", description = "key/value heads (default: ${DEFAULT-VALUE}).")
    int kvHeads;

    @Option(names = "--dim-head", defaultValue = "16", description = "width of one head (default: ${DEFAULT-VALUE}).")
    int dimHead;

    @Option(names = "--composition", defaultValue = "cross", description = "cross|seed (default: ${DEFAULT-VALUE};"
            + " seed gives every record as many text as visual tokens).")
    String composition;

    @Option(names = "--max-visual", defaultValue = "16",
            description = "longest visual record; lengths are drawn from 1..N (default: ${DEFAULT-VALUE}).")
    int maxVisual;

    @Option(names = "--max-text", defaultValue = "12",
            description = "longest text record; lengths are drawn from 1..N (default: ${DEFAULT-VALUE}).")
    int maxText;

    @Option(names = "--seed", defaultValue = "42", description = "random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        SampleGenerator generator;
        try {
            Composition c = switch (composition.toLowerCase(Locale.ROOT)) {
                case "cross" -> Composition.CROSS;
                case "seed" -> Composition.SEED;
                default -> throw new IllegalArgumentException("--composition: expected cross or seed, got '"
                        + composition + "'");
            };
            MmcaConfig config = MmcaConfig.builder().dim(dim).heads(heads).kvHeads(kvHeads).dimHead(dimHead)
                    .composition(c).build();
            generator = new SampleGenerator(records, shards, config, maxVisual, maxText, seed);
        } catch (IllegalArgumentException | dev.mmca.io.HeapLimitException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), optionNamed(e.getMessage()));
        }
        List<Path> files = generator.write(out);
        PrintWriter pw = spec.commandLine().getOut();
        Path w = out.resolve(SampleGenerator.WEIGHTS_FILE);
        Path in = out.resolve(SampleGenerator.INPUT_DIR);
        pw.println("wrote " + w + " and " + files.size() + " shard" + (files.size() == 1 ? "" : "s") + " ("
                + records + " records) in " + in);
        pw.println("next: mmca embed --weights " + w + " --input " + in + " --output " + out.resolve("output"));
        return 0;
    }

    /** The library's argument names ({@code kvHeads: ...}) as this command's options ({@code --kv-heads: ...}). */
    static String optionNamed(String message) {
        String m = String.valueOf(message);
        String[][] names = {{"maxVisual, maxText", "--max-visual, --max-text"}, {"records", "--records"},
            {"shards", "--shards"}, {"dim", "--dim"}, {"heads", "--heads"}, {"kvHeads", "--kv-heads"},
            {"dimHead", "--dim-head"}, {"heads*dimHead*dim", "--heads x --dim-head x --dim"}};
        for (String[] n : names) {
            if (m.startsWith(n[0] + ": ")) {
                return n[1] + m.substring(n[0].length());
            }
        }
        return m;
    }
}
