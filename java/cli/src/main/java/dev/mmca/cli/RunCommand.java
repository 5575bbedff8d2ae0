package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.Mask;
import dev.mmca.Modality;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.NumericOverflowException;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Runs SimpleMMCA with weights from a safetensors file on tokens from .npy files, or, with
 * {@code --composition interleaved}, one interleaved block on a sequence of text and image tokens.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run SimpleMMCA on visual and text tokens from .npy files, with weights from a safetensors file"
                + " (upstream PyTorch state_dict names).",
            "With --composition interleaved: one interleaved block (to_q, to_k, to_v, to_out) on --tokens with"
                + " --modality (0 padding, 1 text, 2 image), written to --out.",
            "Config comes from the weights' __metadata__ when present; flags override it; dim, dim_head and"
                + " kv_heads follow from the weight shapes once heads is known."})
final class RunCommand implements Callable<Integer> {
    // Which options are required depends on the composition, so call() checks them (in picocli's words).
    @Option(names = "--weights", description = "safetensors file with the 12 upstream tensors (interleaved: the 4 of"
            + " one block).")
    Path weights;

    @Option(names = "--visual", description = "visual tokens [B, Nv, dim] (.npy, <f4 or <f8).")
    Path visual;

    @Option(names = "--text", description = "text tokens [B, Nt, dim] (.npy, <f4 or <f8).")
    Path text;

    @Option(names = "--tokens", description = "interleaved: tokens [B, N, dim] (.npy, <f4 or <f8).")
    Path tokens;

    @Option(names = "--modality", description = "interleaved: modality [B, N] (.npy, |u1 or an integer dtype; 0"
            + " padding, 1 text, 2 image).")
    Path modality;

    @Option(names = "--visual-mask", description = "visual mask [B, Nv] (.npy, |b1 or |u1; true = real token).")
    Path visualMask;

    @Option(names = "--text-mask", description = "text mask [B, Nt] (.npy, |b1 or |u1; true = real token).")
    Path textMask;

    @Option(names = "--heads", description = "query heads (else from __metadata__).")
    Integer heads;

    @Option(names = "--kv-heads", description = "key/value heads (else from metadata or the weight shapes).")
    Integer kvHeads;

    @Option(names = "--dim-head", description = "width of one head (else from metadata or the weight shapes).")
    Integer dimHead;

    @Option(names = "--causal", arity = "1", description = "true|false (default: metadata, else true for cross,"
            + " false for seed).")
    Boolean causal;

    @Option(names = "--qk-norm", arity = "0..1", fallbackValue = "true", description = "L2-normalise q and k"
            + " (scale 10).")
    Boolean qkNorm;

    @Option(names = "--composition", description = "cross|seed|interleaved (default: metadata, else cross;"
            + " interleaved when --tokens, --modality or --out is given).")
    String composition;

    @Option(names = "--image-attention", description = "interleaved: self|block, what an image token attends to"
            + " (default: metadata, else self).")
    String imageAttention;

    @Option(names = "--head-mapping", description = "modulo|grouped (default: metadata, else modulo).")
    String headMapping;

    @Option(names = "--backend", description = "auto|java|cpu|cuda (default: auto, or mmca.backend / MMCA_BACKEND).")
    String backend;

    @Option(names = "--out-visual", description = "where to write the visual output (.npy, <f4).")
    Path outVisual;

    @Option(names = "--out-text", description = "where to write the text output (.npy, <f4).")
    Path outText;

    @Option(names = "--out", description = "interleaved: where to write the output [B, N, dim] (.npy, <f4).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        // Every check that needs no reading first: options, then the paths (inputs readable regular files,
        // outputs replaceable, no output on an input or on the other output), so nothing is computed in vain.
        for (Object[] o : new Object[][] {{"--heads", heads}, {"--kv-heads", kvHeads}, {"--dim-head", dimHead}}) {
            if (o[1] != null && (Integer) o[1] <= 0) {
                throw new CommandLine.ParameterException(spec.commandLine(), o[0] + ": expected a positive integer,"
                        + " got " + o[1]);
            }
        }
        Composition stated = composition == null ? null
                : option("--composition", () -> Composition.parse(composition));
        if (stated == Composition.INTERLEAVED
                || (stated == null && (tokens != null || modality != null || out != null))) {
            return runInterleaved(stated);
        }
        options(new Object[][] {{"--weights", weights}, {"--visual", visual}, {"--text", text},
            {"--out-visual", outVisual}, {"--out-text", outText}},
                new Object[][] {{"--tokens", tokens}, {"--modality", modality}, {"--out", out},
                    {"--image-attention", imageAttention}}, "of composition cross or seed (it belongs to"
                        + " --composition interleaved)");
        ConfigOverrides overrides = ConfigOverrides.builder().heads(heads).kvHeads(kvHeads).dimHead(dimHead)
                .causal(causal).qkNorm(qkNorm).composition(stated)
                .headMapping(headMapping == null ? null : option("--head-mapping", () -> HeadMapping.parse(headMapping)))
                .build();
        List<PathArguments.Named> inputs = new ArrayList<>();
        inputs.add(new PathArguments.Named("--weights", weights));
        inputs.add(new PathArguments.Named("--visual", visual));
        inputs.add(new PathArguments.Named("--text", text));
        if (visualMask != null) {
            inputs.add(new PathArguments.Named("--visual-mask", visualMask));
        }
        if (textMask != null) {
            inputs.add(new PathArguments.Named("--text-mask", textMask));
        }
        List<PathArguments.Named> outputs = List.of(new PathArguments.Named("--out-visual", outVisual),
                new PathArguments.Named("--out-text", outText));
        PathArguments.check(inputs, outputs);

        LoadedModel loaded = PathArguments.reading("--weights", weights, () -> ModelFiles.read(weights, overrides));
        for (String w : loaded.warnings()) {
            spec.commandLine().getErr().println("mmca run: warning: " + w);
        }
        FloatTensor v = PathArguments.reading("--visual", visual, () -> Npy.read(visual).toFloatTensor());
        FloatTensor t = PathArguments.reading("--text", text, () -> Npy.read(text).toFloatTensor());
        Mask vm = visualMask == null ? null
                : PathArguments.reading("--visual-mask", visualMask, () -> Npy.read(visualMask).toMask());
        Mask tm = textMask == null ? null
                : PathArguments.reading("--text-mask", textMask, () -> Npy.read(textMask).toMask());
        MmcaInputs in = new MmcaInputs(v, t, vm, tm);
        Backend b = backend(loaded.config());
        try (SimpleMmca model = SimpleMmca.create(loaded.config(), loaded.weights(), b)) {
            long t0 = System.nanoTime();
            MmcaOutput out;
            try {
                out = model.forward(in);  // checks the inputs (shapes, masks, finite values) once
            } catch (IllegalArgumentException e) {
                throw PathArguments.attribute(e, inputs);
            } catch (NumericOverflowException e) {
                // finite values too large for float32: the tokens of the block that overflowed (or the weights)
                boolean visualBlock = e.getMessage().startsWith("visual_self_attn");
                throw new PathArguments.Failure((visualBlock ? "--visual: " + visual : "--text: " + text) + ": "
                        + e.getMessage(), e);
            }
            long ns = System.nanoTime() - t0;
            PathArguments.writing("--out-visual", outVisual, () -> Npy.writeFloats(outVisual, out.visual()));
            PathArguments.writing("--out-text", outText, () -> Npy.writeFloats(outText, out.text()));
            spec.commandLine().getErr().printf(java.util.Locale.ROOT, "mmca run: %s on %s, %.2f ms; wrote %s and %s%n",
                    loaded.config(), b.name(), ns / 1e6, outVisual, outText);
            spec.commandLine().getErr().flush();
        }
        return 0;
    }

    /**
     * {@code mmca run --composition interleaved}: one interleaved block on {@code --tokens} with
     * {@code --modality}, written to {@code --out}; the checks, attributions and output of the other mode.
     */
    private Integer runInterleaved(Composition stated) throws Exception {
        options(new Object[][] {{"--weights", weights}, {"--tokens", tokens}, {"--modality", modality}, {"--out", out}},
                new Object[][] {{"--visual", visual}, {"--text", text}, {"--visual-mask", visualMask},
                    {"--text-mask", textMask}, {"--out-visual", outVisual}, {"--out-text", outText}},
                "with --composition interleaved (its inputs are --tokens and --modality, its output --out)");
        if (Boolean.FALSE.equals(causal)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--causal: composition interleaved is causal"
                    + " by definition (a text token sees the tokens up to itself), expected true, got false");
        }
        ConfigOverrides overrides = ConfigOverrides.builder().heads(heads).kvHeads(kvHeads).dimHead(dimHead)
                .causal(causal).qkNorm(qkNorm).composition(stated)
                .headMapping(headMapping == null ? null : option("--head-mapping", () -> HeadMapping.parse(headMapping)))
                .imageAttention(imageAttention == null ? null
                        : option("--image-attention", () -> ImageAttention.parse(imageAttention)))
                .build();
        List<PathArguments.Named> inputs = List.of(new PathArguments.Named("--weights", weights),
                new PathArguments.Named("--tokens", tokens), new PathArguments.Named("--modality", modality));
        PathArguments.check(inputs, List.of(new PathArguments.Named("--out", out)));

        LoadedInterleaved loaded = PathArguments.reading("--weights", weights,
                () -> ModelFiles.readInterleaved(weights, overrides));
        for (String w : loaded.warnings()) {
            spec.commandLine().getErr().println("mmca run: warning: " + w);
        }
        FloatTensor x = PathArguments.reading("--tokens", tokens, () -> Npy.read(tokens).toFloatTensor());
        Modality m = PathArguments.reading("--modality", modality, () -> Npy.readIntegers(modality).toModality());
        Backend b = backend(loaded.config());
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
            spec.commandLine().getErr().printf(java.util.Locale.ROOT, "mmca run: %s on %s, %.2f ms; wrote %s%n",
                    loaded.config(), b.name(), ns / 1e6, out);
            spec.commandLine().getErr().flush();
        }
        return 0;
    }

    /**
     * The options a mode requires (refused in picocli's words when missing) and those it has no use for (refused
     * naming the option and {@code why}).
     */
    private void options(Object[][] required, Object[][] unused, String why) {
        for (Object[] o : unused) {
            if (o[1] != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), o[0] + ": not an option " + why);
            }
        }
        List<String> missing = new ArrayList<>();
        for (Object[] o : required) {
            if (o[1] == null) {
                String name = (String) o[0];
                StringBuilder label = new StringBuilder();  // picocli's label: the field name, --out-text -> outText
                for (String word : name.substring(2).split("-")) {
                    label.append(label.length() == 0 ? word : Character.toUpperCase(word.charAt(0)) + word.substring(1));
                }
                missing.add("'" + name + "=<" + label + ">'");
            }
        }
        if (!missing.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "Missing required option"
                    + (missing.size() > 1 ? "s" : "") + ": " + String.join(", ", missing));
        }
    }

    /** The backend asked for (or auto); a failure of a named one is attributed to {@code --backend}. */
    private Backend backend(dev.mmca.MmcaConfig config) throws PathArguments.Failure {
        try {
            return Backends.select(backend, config);
        } catch (RuntimeException e) {
            if (backend == null) {
                throw e;
            }
            throw new PathArguments.Failure("--backend: " + String.valueOf(e.getMessage()).replaceFirst("^backend: ", ""), e);
        }
    }

    private <T> T option(String name, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), name + ": "
                    + e.getMessage().replaceFirst("^[A-Za-z_]+: ", ""));
        }
    }
}
