package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import java.nio.file.Path;
import java.util.concurrent.Callable;
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

    @Override
    public Integer call() throws Exception {
        // unset flags stay null, so the weights' metadata (or the shapes) decide
        ConfigOverrides overrides = ConfigOverrides.builder().heads(heads).kvHeads(kvHeads).dimHead(dimHead)
                .causal(causal).qkNorm(qkNorm)
                .composition(composition == null ? null : Composition.parse(composition))
                .headMapping(headMapping == null ? null : HeadMapping.parse(headMapping))
                .build();
        LoadedModel loaded = ModelFiles.load(weights, overrides);
        for (String w : loaded.warnings()) {
            System.err.println("mmca run: warning: " + w);
        }
        FloatTensor v = Npy.read(visual).toFloatTensor();
        FloatTensor t = Npy.read(text).toFloatTensor();
        Mask vm = visualMask == null ? null : Npy.read(visualMask).toMask();
        Mask tm = textMask == null ? null : Npy.read(textMask).toMask();
        MmcaInputs inputs = new MmcaInputs(v, t, vm, tm);
        Backend b = Backends.select(backend, loaded.config());
        try (SimpleMmca model = SimpleMmca.create(loaded.config(), loaded.weights(), b)) {
            long t0 = System.nanoTime();
            MmcaOutput out = model.forward(inputs);
            long ns = System.nanoTime() - t0;
            Npy.writeFloats(outVisual, out.visual());
            Npy.writeFloats(outText, out.text());
            System.err.printf(java.util.Locale.ROOT, "mmca run: %s on %s, %.2f ms; wrote %s and %s%n",
                    loaded.config(), b.name(), ns / 1e6, outVisual, outText);
        }
        return 0;
    }
}
