package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.NumericOverflowException;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.io.ConfigOverrides;
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

/** Runs SimpleMMCA with weights from a safetensors file on tokens from .npy files. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Run SimpleMMCA on visual and text tokens from .npy files, with weights from a safetensors file"
                + " (upstream PyTorch state_dict names).",
            "Config comes from the weights' __metadata__ when present; flags override it; dim, dim_head and"
                + " kv_heads follow from the weight shapes once heads is known."})
final class RunCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "safetensors file with the 12 upstream tensors.")
    Path weights;

    @Option(names = "--visual", required = true, description = "visual tokens [B, Nv, dim] (.npy, <f4 or <f8).")
    Path visual;

    @Option(names = "--text", required = true, description = "text tokens [B, Nt, dim] (.npy, <f4 or <f8).")
    Path text;

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

    @Option(names = "--composition", description = "cross|seed (default: metadata, else cross).")
    String composition;

    @Option(names = "--head-mapping", description = "modulo|grouped (default: metadata, else modulo).")
    String headMapping;

    @Option(names = "--backend", description = "auto|java|cpu|cuda (default: auto, or mmca.backend / MMCA_BACKEND).")
    String backend;

    @Option(names = "--out-visual", required = true, description = "where to write the visual output (.npy, <f4).")
    Path outVisual;

    @Option(names = "--out-text", required = true, description = "where to write the text output (.npy, <f4).")
    Path outText;

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
        ConfigOverrides overrides = ConfigOverrides.builder().heads(heads).kvHeads(kvHeads).dimHead(dimHead)
                .causal(causal).qkNorm(qkNorm)
                .composition(composition == null ? null : option("--composition", () -> Composition.parse(composition)))
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
        Backend b;
        try {
            b = Backends.select(backend, loaded.config());
        } catch (RuntimeException e) {
            if (backend == null) {
                throw e;
            }
            throw new PathArguments.Failure("--backend: " + String.valueOf(e.getMessage()).replaceFirst("^backend: ", ""), e);
        }
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

    private <T> T option(String name, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), name + ": "
                    + e.getMessage().replaceFirst("^[A-Za-z_]+: ", ""));
        }
    }
}
