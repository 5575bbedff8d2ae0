package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.MmcaOutput;
import dev.mmca.NumericOverflowException;
import dev.mmca.SimpleMmca;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

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
    @CommandLine.Mixin
    ModelRunOptions options;

    @CommandLine.Mixin
    InterleavedRunOptions interleaved;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Composition stated = options.composition();
        if (stated == Composition.INTERLEAVED || (stated == null && interleaved.anyGiven())) {
            interleaved.run(options, stated);
            return 0;
        }
        interleaved.refuseAll();
        ModelRunOptions.Loaded loaded = options.load();
        try (SimpleMmca model = SimpleMmca.create(loaded.model().config(), loaded.model().weights(), loaded.backend())) {
            long t0 = System.nanoTime();
            MmcaOutput out;
            try {
                out = model.forward(loaded.inputs());  // checks the inputs (shapes, masks, finite values) once
            } catch (IllegalArgumentException e) {
                throw PathArguments.attribute(e, loaded.inputPaths());
            } catch (NumericOverflowException e) {
                throw options.overflow(e);
            }
            long ns = System.nanoTime() - t0;
            options.write(out.visual(), out.text());
            spec.commandLine().getErr().printf(Locale.ROOT, "mmca run: %s on %s, %.2f ms; wrote %s and %s%n",
                    loaded.model().config(), loaded.backend().name(), ns / 1e6, options.outVisual, options.outText);
            spec.commandLine().getErr().flush();
        }
        return 0;
    }
}
