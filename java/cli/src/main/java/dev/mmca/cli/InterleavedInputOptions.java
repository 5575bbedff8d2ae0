package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.Modality;
import dev.mmca.io.Npy;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Option;

/**
 * The inputs of composition interleaved (SPEC "Interleaved MMCA"), {@code --tokens} and {@code --modality}, as
 * {@code mmca run} and {@code mmca parity} take them; a failure to read one is attributed to its option.
 */
final class InterleavedInputOptions {
    @Option(names = "--tokens", description = "interleaved: tokens [B, N, dim] (.npy, <f4 or <f8).")
    Path tokens;

    @Option(names = "--modality", description = "interleaved: modality [B, N] (.npy, |u1 or an integer dtype; 0"
            + " padding, 1 text, 2 image).")
    Path modality;

    /** Whether either is given. */
    boolean anyGiven() {
        return tokens != null || modality != null;
    }

    /** The two as (name, value) pairs, for {@link OptionChecks}. */
    Object[][] options() {
        return new Object[][] {{"--tokens", tokens}, {"--modality", modality}};
    }

    /** The two as input paths, for {@link PathArguments#check} and attributions; both must be given. */
    List<PathArguments.Named> named() {
        return List.of(new PathArguments.Named("--tokens", tokens), new PathArguments.Named("--modality", modality));
    }

    FloatTensor readTokens() throws PathArguments.Failure {
        return PathArguments.reading("--tokens", tokens, () -> Npy.read(tokens).toFloatTensor());
    }

    Modality readModality() throws PathArguments.Failure {
        return PathArguments.reading("--modality", modality, () -> Npy.readIntegers(modality).toModality());
    }
}
