package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaInputs;
import dev.mmca.io.Npy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The inputs of a SimpleMMCA model (compositions cross and seed), {@code --visual} and {@code --text} with their
 * masks, as {@code mmca run}, {@code mmca decode} and {@code mmca parity} take them; a failure to read one is
 * attributed to its option.
 */
final class VisualTextInputOptions {
    @Option(names = "--visual", description = "visual tokens [B, Nv, dim] (.npy, <f4 or <f8).")
    Path visual;

    @Option(names = "--text", description = "text tokens [B, Nt, dim] (.npy, <f4 or <f8).")
    Path text;

    @Option(names = "--visual-mask", description = "visual mask [B, Nv] (.npy, |b1 or |u1; true = real token).")
    Path visualMask;

    @Option(names = "--text-mask", description = "text mask [B, Nt] (.npy, |b1 or |u1; true = real token).")
    Path textMask;

    /** The four as (name, value) pairs, for {@link OptionChecks}: the tokens first, then the masks. */
    Object[][] options() {
        return new Object[][] {{"--visual", visual}, {"--text", text}, {"--visual-mask", visualMask},
            {"--text-mask", textMask}};
    }

    /** The given ones as input paths, for {@link PathArguments#check} and attributions. */
    List<PathArguments.Named> named() {
        List<PathArguments.Named> named = new ArrayList<>();
        named.add(new PathArguments.Named("--visual", visual));
        named.add(new PathArguments.Named("--text", text));
        if (visualMask != null) {
            named.add(new PathArguments.Named("--visual-mask", visualMask));
        }
        if (textMask != null) {
            named.add(new PathArguments.Named("--text-mask", textMask));
        }
        return named;
    }

    /** The tokens and masks, read. */
    MmcaInputs read() throws PathArguments.Failure {
        FloatTensor v = PathArguments.reading("--visual", visual, () -> Npy.read(visual).toFloatTensor());
        FloatTensor t = PathArguments.reading("--text", text, () -> Npy.read(text).toFloatTensor());
        Mask vm = visualMask == null ? null
                : PathArguments.reading("--visual-mask", visualMask, () -> Npy.read(visualMask).toMask());
        Mask tm = textMask == null ? null
                : PathArguments.reading("--text-mask", textMask, () -> Npy.read(textMask).toMask());
        return new MmcaInputs(v, t, vm, tm);
    }
}
