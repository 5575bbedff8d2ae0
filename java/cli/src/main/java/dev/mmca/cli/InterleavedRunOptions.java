package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.Modality;
import dev.mmca.NumericOverflowException;
import dev.mmca.backend.Backend;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import java.nio.file.Path;
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
    @Option(names = "--tokens", description = "interleaved: tokens [B, N, dim] (.npy, <f4 or <f8).")
    Path tokens;

    @Option(names = "--modality", description = "interleaved: modality [B, N] (.npy, |u1 or an integer dtype; 0"
            + " padding, 1 text, 2 image).")
    Path modality;

    @Option(names = "--image-attention", description = "interleaved: self|block, what an image token attends to"
            + " (default: metadata, else self).")
    String imageAttention;

    @Option(names = "--out", description = "interleaved: where to write the output [B, N, dim] (.npy, <f4).")
    Path out;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /** Whether any option of this mode is given (it is then the mode unless --composition says otherwise). */
    boolean anyGiven() {
        return tokens != null || modality != null || out != null;
    }

    /** Refuses every option of this mode, for a run of composition cross or seed. */
    void refuseAll() {
        OptionChecks.refuse(spec, new Object[][] {{"--tokens", tokens}, {"--modality", modality}, {"--out", out},
            {"--image-attention", imageAttention}}, "of composition cross or seed (it belongs to --composition"
                + " interleaved)");
    }

    /** Checks, reads, runs and writes; {@code stated} is the composition given on the command line, if any. */
    void run(ModelRunOptions shared, Composition stated) throws Exception {
        // every check that needs no reading first, so nothing is read or computed in vain
        OptionChecks.refuse(spec, shared.twoStreamOptions(), "with --composition interleaved (its inputs are --tokens"
                + " and --modality, its output --out)");
        OptionChecks.require(spec, new Object[][] {{"--weights", shared.weights}, {"--tokens", tokens},
            {"--modality", modality}, {"--out", out}});
        shared.positiveCounts();
        if (Boolean.FALSE.equals(shared.causal())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--causal: composition interleaved is causal"
                    + " by definition (a text token sees the tokens up to itself), expected true, got false");
        }
        ConfigOverrides overrides = shared.overrides(stated)
                .imageAttention(imageAttention == null ? null
                        : OptionChecks.parse(spec, "--image-attention", () -> ImageAttention.parse(imageAttention)))
                .build();
        List<PathArguments.Named> inputs = List.of(new PathArguments.Named("--weights", shared.weights),
                new PathArguments.Named("--tokens", tokens), new PathArguments.Named("--modality", modality));
        PathArguments.check(inputs, List.of(new PathArguments.Named("--out", out)));

        LoadedInterleaved loaded = PathArguments.reading("--weights", shared.weights,
                () -> ModelFiles.readInterleaved(shared.weights, overrides));
        for (String w : loaded.warnings()) {
            spec.commandLine().getErr().println("mmca " + spec.name() + ": warning: " + w);
        }
        FloatTensor x = PathArguments.reading("--tokens", tokens, () -> Npy.read(tokens).toFloatTensor());
        Modality m = PathArguments.reading("--modality", modality, () -> Npy.readIntegers(modality).toModality());
        Backend b = shared.backend(loaded.config());
        try (InterleavedMmca model = InterleavedMmca.create(loaded.config(), loaded.weights(), b)) {
            long t0 = System.nanoTime();
            FloatTensor result;
            try {
                result = model.forward(x, m);  // checks the shapes, the modality and finite values once
            } catch (IllegalArgumentException e) {
                throw PathArguments.attribute(e, inputs);
            } catch (NumericOverflowException e) {
                throw new PathArguments.Failure("--tokens: " + tokens + ": " + e.getMessage(), e);
            }
            long ns = System.nanoTime() - t0;
            PathArguments.writing("--out", out, () -> Npy.writeFloats(out, result));
            spec.commandLine().getErr().printf(Locale.ROOT, "mmca %s: %s on %s, %.2f ms; wrote %s%n", spec.name(),
                    loaded.config(), b.name(), ns / 1e6, out);
            spec.commandLine().getErr().flush();
        }
    }
}
