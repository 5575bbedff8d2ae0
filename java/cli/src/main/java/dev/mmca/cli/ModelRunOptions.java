package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.NumericOverflowException;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options shared by {@code mmca run} and {@code mmca decode}: weights, tokens, masks, config overrides,
 * backend and the two outputs, checked and loaded in one place so both commands refuse the same things with
 * the same messages. The weights, the tokens and the outputs are required unless {@code mmca run} takes its
 * interleaved mode ({@link InterleavedRunOptions}), so {@link #load} requires them, in picocli's words.
 */
final class ModelRunOptions {
    @Option(names = "--weights", description = "safetensors file with the 12 upstream tensors (run --composition interleaved:"
            + " the 4 of one block).")
    Path weights;

    @CommandLine.Mixin
    VisualTextInputOptions streams;

    /** The model options that override the weights' metadata, shared with {@code mmca parity}. */
    @CommandLine.Mixin
    ConfigOptions config;

    @Option(names = "--backend", description = "auto|java|cpu|cuda (default: auto, or mmca.backend / MMCA_BACKEND).")
    String backend;

    @Option(names = "--out-visual", description = "where to write the visual output (.npy, <f4).")
    Path outVisual;

    @Option(names = "--out-text", description = "where to write the text output (.npy, <f4).")
    Path outText;

    @CommandLine.Spec(CommandLine.Spec.Target.MIXEE)
    CommandLine.Model.CommandSpec spec;

    /** What the options name, read and checked: the model, the inputs and the backend to run them on. */
    record Loaded(LoadedModel model, MmcaInputs inputs, Backend backend, List<PathArguments.Named> inputPaths) {
    }

    /**
     * Every check that needs no reading first (options, then the paths: inputs readable regular files, outputs
     * replaceable, no output on an input or on the other output), so nothing is computed in vain; then reads the
     * weights and tokens and selects the backend. Warnings of the weights go to stderr as
     * {@code mmca COMMAND: warning: ...}.
     */
    Loaded load() throws PathArguments.Failure {
        Composition stated = composition();
        if (stated == Composition.INTERLEAVED) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--composition: interleaved takes --tokens"
                    + " and --modality, which are options of 'mmca run' only; 'mmca " + spec.name() + "' runs cross"
                    + " or seed");
        }
        config.refuseInterleavedOnly(spec.commandLine());
        OptionChecks.require(spec, new Object[][] {{"--weights", weights}, streams.options()[0], streams.options()[1],
            {"--out-visual", outVisual}, {"--out-text", outText}});
        ConfigOverrides overrides = overrides(stated).build();
        List<PathArguments.Named> inputs = new ArrayList<>();
        inputs.add(new PathArguments.Named("--weights", weights));
        inputs.addAll(streams.named());
        List<PathArguments.Named> outputs = List.of(new PathArguments.Named("--out-visual", outVisual),
                new PathArguments.Named("--out-text", outText));
        PathArguments.check(inputs, outputs);

        LoadedModel loaded = PathArguments.reading("--weights", weights, () -> ModelFiles.read(weights, overrides));
        for (String w : loaded.warnings()) {
            spec.commandLine().getErr().println("mmca " + spec.name() + ": warning: " + w);
        }
        MmcaInputs in = streams.read();
        Backend b = backend(loaded.config());
        return new Loaded(loaded, in, b, inputs);
    }

    /**
     * A float32 overflow (finite values too large) attributed to the tokens of the block that overflowed: the
     * visual tokens for the visual self-attention, else the text tokens.
     */
    PathArguments.Failure overflow(NumericOverflowException e) {
        boolean visualBlock = e.getMessage().startsWith("visual_self_attn");
        return new PathArguments.Failure((visualBlock ? "--visual: " + streams.visual : "--text: " + streams.text)
                + ": " + e.getMessage(), e);
    }

    /** Writes the two outputs, attributing a failure to the option. */
    void write(FloatTensor visualOut, FloatTensor textOut) throws PathArguments.Failure {
        PathArguments.writing("--out-visual", outVisual, () -> Npy.writeFloats(outVisual, visualOut));
        PathArguments.writing("--out-text", outText, () -> Npy.writeFloats(outText, textOut));
    }

    /** Refuses a count option that is given but not positive. */
    void positiveCounts() {
        config.positiveCounts(spec.commandLine());
    }

    /** The composition given with {@code --composition} (refused by name when unknown), or null. */
    Composition composition() {
        return config.composition(spec.commandLine());
    }

    /** The config overrides of the shared options, {@code stated} as the composition. */
    ConfigOverrides.Builder overrides(Composition stated) {
        return config.overrides(spec.commandLine(), stated);
    }

    /** The backend asked for (or auto); a failure of a named one is attributed to {@code --backend}. */
    Backend backend(MmcaConfig config) throws PathArguments.Failure {
        try {
            return Backends.select(backend, config);
        } catch (RuntimeException e) {
            if (backend == null) {
                throw e;
            }
            throw new PathArguments.Failure("--backend: " + String.valueOf(e.getMessage()).replaceFirst("^backend: ", ""),
                    e);
        }
    }

    /** The options of the visual and text inputs and outputs, as (name, value) pairs. */
    Object[][] twoStreamOptions() {
        List<Object[]> all = new ArrayList<>(List.of(streams.options()));
        all.add(new Object[] {"--out-visual", outVisual});
        all.add(new Object[] {"--out-text", outText});
        return all.toArray(new Object[0][]);
    }
}
