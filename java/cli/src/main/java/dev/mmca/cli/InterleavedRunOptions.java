package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.InterleavedMmca;
import dev.mmca.Modality;
import dev.mmca.NumericOverflowException;
import dev.mmca.backend.Backend;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options of {@code mmca run --composition interleaved} (SPEC "Interleaved MMCA"): one interleaved block on
 * {@code --tokens} with {@code --modality}, written to {@code --out}. The weights, the config overrides and the
 * backend are those of {@link ModelRunOptions}; the checks, attributions and output read as in the other mode.
 */
final class InterleavedRunOptions {
    @CommandLine.Mixin
    InterleavedInputOptions inputs;

    @Option(names = "--out", description = "interleaved: where to write the output [B, N, dim] (.npy, <f4).")
    Path out;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /** Whether any option of this mode is given (it is then the mode unless --composition says otherwise). */
    boolean anyGiven() {
        return inputs.anyGiven() || out != null;
    }

    /** Refuses every option of this mode, for a run of composition cross or seed. */
    void refuseAll() {
        OptionChecks.refuse(spec, new Object[][] {inputs.options()[0], inputs.options()[1], {"--out", out}},
                "of composition cross or seed (it belongs to --composition interleaved)");
    }

    /** Checks, reads, runs and writes; {@code stated} is the composition given on the command line, if any. */
    void run(ModelRunOptions shared, Composition stated) throws Exception {
        // every check that needs no reading first, so nothing is read or computed in vain
        OptionChecks.refuse(spec, shared.twoStreamOptions(), "with --composition interleaved (its inputs are --tokens"
                + " and --modality, its output --out)");
        OptionChecks.require(spec, new Object[][] {{"--weights", shared.weights}, inputs.options()[0],
            inputs.options()[1], {"--out", out}});
        shared.positiveCounts();
        shared.config.requireCausal(spec.commandLine());
        ConfigOverrides overrides = shared.overrides(stated).build();
        List<PathArguments.Named> paths = new ArrayList<>();
        paths.add(new PathArguments.Named("--weights", shared.weights));
        paths.addAll(inputs.named());
        PathArguments.check(paths, List.of(new PathArguments.Named("--out", out)));

        LoadedInterleaved loaded = PathArguments.reading("--weights", shared.weights,
                () -> ModelFiles.readInterleaved(shared.weights, overrides));
        for (String w : loaded.warnings()) {
            spec.commandLine().getErr().println("mmca " + spec.name() + ": warning: " + w);
        }
        FloatTensor x = inputs.readTokens();
        Modality m = inputs.readModality();
        Backend b = shared.backend(loaded.config());
        try (InterleavedMmca model = InterleavedMmca.create(loaded.config(), loaded.weights(), b)) {
            long t0 = System.nanoTime();
            FloatTensor result;
            try {
                result = model.forward(x, m);  // checks the shapes, the modality and finite values once
            } catch (IllegalArgumentException e) {
                throw PathArguments.attribute(e, paths);
            } catch (NumericOverflowException e) {
                throw new PathArguments.Failure("--tokens: " + inputs.tokens + ": " + e.getMessage(), e);
            }
            long ns = System.nanoTime() - t0;
            PathArguments.writing("--out", out, () -> Npy.writeFloats(out, result));
            spec.commandLine().getErr().printf(Locale.ROOT, "mmca %s: %s on %s, %.2f ms; wrote %s%n", spec.name(),
                    loaded.config(), b.name(), ns / 1e6, out);
            spec.commandLine().getErr().flush();
        }
    }
}
