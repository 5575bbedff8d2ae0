package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.Modality;
import dev.mmca.backend.PreparedInterleaved;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.parity.SeededInputs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The model and inputs of {@code mmca parity}: a SimpleMMCA model on {@code --visual} and {@code --text} (with
 * their masks), or, with {@code --composition interleaved}, one interleaved block on {@code --tokens} and
 * {@code --modality} ({@link InterleavedInputOptions}, as {@code mmca run} takes them); either from files or
 * {@code --random} from {@code --seed}. Every check that needs no reading comes first, each naming its option.
 */
final class ParityInputOptions {
    /** Largest --batch and token counts of --random; the reference's time grows with their product. */
    static final int MAX_RANDOM_SIZE = 1 << 16;

    @CommandLine.Mixin
    VisualTextInputOptions streams;

    @CommandLine.Mixin
    InterleavedInputOptions interleaved;

    @Option(names = "--random", description = "standard-normal tokens from --seed and random padding masks (with"
            + " --composition interleaved: a random layout of text, image and padding runs) instead of files.")
    boolean random;

    @Option(names = "--batch", description = "with --random: batch elements (default 3).")
    Integer batch;

    @Option(names = "--visual-tokens", description = "with --random: visual tokens (default 17).")
    Integer visualTokens;

    @Option(names = "--text-tokens", description = "with --random: text tokens (default 13; for composition seed,"
            + " the visual tokens).")
    Integer textTokens;

    @Option(names = "--length", description = "with --random and --composition interleaved: tokens per sequence"
            + " (default 29).")
    Integer length;

    @Option(names = "--seed", description = "with --random: the seed of tokens and masks (default 1).")
    Long seed;

    /** The problem to check and how to describe its inputs in the report's header. */
    record Loaded(ParityProblem problem, String description) {
    }

    /**
     * Whether the interleaved composition is checked: stated, or (no composition stated) {@code --tokens} or
     * {@code --modality} given, as in {@code mmca run}.
     */
    boolean interleaved(Composition stated) {
        return stated == Composition.INTERLEAVED || (stated == null && interleaved.anyGiven());
    }

    /** The checks of the input options that need no reading, for the composition {@link #interleaved} says. */
    void check(CommandLine cl, ConfigOptions config, boolean interleavedMode) {
        Object[][] files;
        Object[][] counts;
        if (interleavedMode) {
            List<Object[]> twoStream = new ArrayList<>(List.of(streams.options()));
            twoStream.add(new Object[] {"--visual-tokens", visualTokens});
            twoStream.add(new Object[] {"--text-tokens", textTokens});
            OptionChecks.refuse(cl.getCommandSpec(), twoStream.toArray(new Object[0][]), "with --composition"
                    + " interleaved (its inputs are --tokens and --modality, or --random with --batch and --length)");
            config.requireCausal(cl);
            files = interleaved.options();
            counts = new Object[][] {{"--batch", batch}, {"--length", length}};
        } else {
            OptionChecks.refuse(cl.getCommandSpec(), new Object[][] {interleaved.options()[0],
                interleaved.options()[1], {"--length", length}}, "of composition cross or seed (it belongs to"
                    + " --composition interleaved)");
            config.refuseInterleavedOnly(cl);
            files = streams.options();
            counts = new Object[][] {{"--batch", batch}, {"--visual-tokens", visualTokens}, {"--text-tokens",
                textTokens}};
        }
        List<String> given = new ArrayList<>();
        for (Object[] o : files) {
            if (o[1] != null) {
                given.add((String) o[0]);
            }
        }
        if (random && !given.isEmpty()) {
            throw new CommandLine.ParameterException(cl, "--random: expected either --random or input files, got"
                    + " both (" + String.join(", ", given) + ")");
        }
        if (!random) {
            String first = (String) files[0][0];
            String second = (String) files[1][0];
            if (files[0][1] == null || files[1][1] == null) {
                throw new CommandLine.ParameterException(cl, (files[0][1] == null ? first : second) + ": expected "
                        + first + " and " + second + " (or --random), got " + (given.isEmpty() ? "neither"
                        : "only " + String.join(", ", given)));
            }
            List<Object[]> randomOnly = new ArrayList<>(List.of(counts));
            randomOnly.add(new Object[] {"--seed", seed});
            for (Object[] o : randomOnly) {
                if (o[1] != null) {
                    throw new CommandLine.ParameterException(cl, o[0] + ": expected only with --random, got it with "
                            + first + " and " + second);
                }
            }
            return;
        }
        for (Object[] o : counts) {
            Integer v = (Integer) o[1];
            if (v != null && (v < 1 || v > MAX_RANDOM_SIZE)) {
                throw new CommandLine.ParameterException(cl, o[0] + ": expected 1 to " + MAX_RANDOM_SIZE + ", got "
                        + v);
            }
        }
    }

    /** Checks the paths, reads the weights (warnings to stderr) and the inputs, and validates them. */
    Loaded load(CommandLine cl, ConfigOptions config, Path weights, boolean interleavedMode) throws Exception {
        List<PathArguments.Named> inputs = new ArrayList<>();
        inputs.add(new PathArguments.Named("--weights", weights));
        if (!random) {
            inputs.addAll(interleavedMode ? interleaved.named() : streams.named());
        }
        PathArguments.check(inputs, List.of());
        Loaded loaded = interleavedMode ? loadInterleaved(cl, config, weights, inputs) : loadSimple(cl, config, weights,
                inputs);
        return loaded;
    }

    private Loaded loadSimple(CommandLine cl, ConfigOptions config, Path weights, List<PathArguments.Named> inputs)
            throws Exception {
        ConfigOverrides overrides = config.overrides(cl);
        LoadedModel model = PathArguments.reading("--weights", weights, () -> ModelFiles.read(weights, overrides));
        warn(cl, model.warnings());
        MmcaConfig c = model.config();
        MmcaInputs in = random ? randomInputs(cl, c) : streams.read();
        String description = random
                ? String.format(Locale.ROOT, "random (seed %d): batch %d, %d visual and %d text tokens, padding masks",
                        seedValue(), in.batch(), in.visualTokens(), in.textTokens())
                : String.join(" ", streams.named().stream().map(n -> n.option() + " " + n.path()).toList())
                        + String.format(Locale.ROOT, " (batch %d, %d visual and %d text tokens)", in.batch(),
                        in.visualTokens(), in.textTokens());
        try {
            in.validate(c);
        } catch (IllegalArgumentException e) {
            throw PathArguments.attribute(e, inputs);
        }
        return new Loaded(new ParityProblem.Simple(c, model.weights(), in), description);
    }

    private Loaded loadInterleaved(CommandLine cl, ConfigOptions config, Path weights,
            List<PathArguments.Named> inputs) throws Exception {
        ConfigOverrides overrides = config.overrides(cl, Composition.INTERLEAVED).build();
        LoadedInterleaved model = PathArguments.reading("--weights", weights,
                () -> ModelFiles.readInterleaved(weights, overrides));
        warn(cl, model.warnings());
        MmcaConfig c = model.config();
        FloatTensor x;
        Modality m;
        if (random) {
            int b = batch == null ? 3 : batch;
            int n = length == null ? 29 : length;
            checkSize(cl, b, n, c.dim());
            x = SeededInputs.normal(seedValue(), b, n, c.dim());
            m = SeededInputs.modality(seedValue() + 1, b, n);
        } else {
            x = interleaved.readTokens();
            m = interleaved.readModality();
        }
        try {
            PreparedInterleaved.checkTokens("tokens", x, -1, c.dim());
            PreparedInterleaved.checkModality("modality", m, x.dim(0), x.dim(1));
            PreparedInterleaved.checkFinite("tokens", x);
        } catch (IllegalArgumentException e) {
            throw PathArguments.attribute(e, inputs);
        }
        String description = random
                ? String.format(Locale.ROOT, "random (seed %d): batch %d, %d interleaved tokens (runs of text, image"
                        + " and padding)", seedValue(), m.batch(), m.length())
                : String.join(" ", interleaved.named().stream().map(n -> n.option() + " " + n.path()).toList())
                        + String.format(Locale.ROOT, " (batch %d, %d interleaved tokens)", m.batch(), m.length());
        return new Loaded(new ParityProblem.Interleaved(c, model.weights(), x, m), description);
    }

    private static void warn(CommandLine cl, List<String> warnings) {
        for (String w : warnings) {
            cl.getErr().println("mmca " + cl.getCommandName() + ": warning: " + w);
        }
    }

    private long seedValue() {
        return seed == null ? 1 : seed;
    }

    /** Refuses random inputs too large for a tensor. */
    private static void checkSize(CommandLine cl, int b, int tokens, int dim) {
        long elements = (long) b * tokens * dim;
        if (elements > Integer.MAX_VALUE - 8) {
            throw new CommandLine.ParameterException(cl, "--batch: batch " + b + " with " + tokens
                    + " tokens of width " + dim + " is " + elements + " values, expected at most 2^31-9");
        }
    }

    private MmcaInputs randomInputs(CommandLine cl, MmcaConfig c) {
        int b = batch == null ? 3 : batch;
        int nv = visualTokens == null ? 17 : visualTokens;
        int nt = textTokens == null ? (c.composition() == Composition.SEED ? nv : 13) : textTokens;
        if (c.composition() == Composition.SEED && nt != nv) {
            throw new CommandLine.ParameterException(cl, "--text-tokens: composition seed adds visual and text token"
                    + " by token, so it expected as many text tokens as visual tokens (" + nv + "), got " + nt);
        }
        checkSize(cl, b, Math.max(nv, nt), c.dim());
        return SeededInputs.modelInputs(c, seedValue(), b, nv, nt, true);
    }
}
