package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MmcaConfig;
import dev.mmca.io.ConfigOverrides;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The model options that override the weights' {@code __metadata__}, as {@code mmca run} has them ({@code
 * --image-attention} only for composition interleaved).
 */
final class ConfigOptions {
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

    @Option(names = "--composition", description = "cross|seed (default: metadata, else cross); run also takes"
            + " interleaved (the default there when --tokens, --modality or --out is given).")
    String composition;

    @Option(names = "--head-mapping", description = "modulo|grouped (default: metadata, else modulo).")
    String headMapping;

    @Option(names = "--image-attention", description = "composition interleaved: self|block, what an image token"
            + " attends to (default: metadata, else self).")
    String imageAttention;

    /** The overrides, each checked (an error names its option). */
    ConfigOverrides overrides(CommandLine commandLine) {
        return overrides(commandLine, composition(commandLine)).build();
    }

    /** The overrides with {@code stated} as the composition (already parsed by the caller), counts checked. */
    ConfigOverrides.Builder overrides(CommandLine commandLine, Composition stated) {
        positiveCounts(commandLine);
        return ConfigOverrides.builder().heads(heads).kvHeads(kvHeads).dimHead(dimHead).causal(causal).qkNorm(qkNorm)
                .composition(stated)
                .headMapping(headMapping == null ? null
                        : OptionChecks.parse(commandLine, "--head-mapping", () -> HeadMapping.parse(headMapping)))
                .imageAttention(imageAttention == null ? null : OptionChecks.parse(commandLine, "--image-attention",
                        () -> ImageAttention.parse(imageAttention)));
    }

    /** Refuses the options of composition interleaved alone, for a command running cross or seed. */
    void refuseInterleavedOnly(CommandLine commandLine) {
        if (imageAttention != null) {
            throw new CommandLine.ParameterException(commandLine, "--image-attention: not an option of composition"
                    + " cross or seed (it belongs to --composition interleaved)");
        }
    }

    /** Refuses {@code --causal false} for composition interleaved, which is causal by definition. */
    void requireCausal(CommandLine commandLine) {
        if (Boolean.FALSE.equals(causal)) {
            throw new CommandLine.ParameterException(commandLine, "--causal: composition interleaved is causal by"
                    + " definition (a text token sees the tokens up to itself), expected true, got false");
        }
    }

    /** Refuses a count option that is given but not positive. */
    void positiveCounts(CommandLine commandLine) {
        for (Object[] o : new Object[][] {{"--heads", heads}, {"--kv-heads", kvHeads}, {"--dim-head", dimHead}}) {
            if (o[1] != null && (Integer) o[1] <= 0) {
                throw new CommandLine.ParameterException(commandLine, o[0] + ": expected a positive integer, got "
                        + o[1]);
            }
        }
    }

    /** The composition given with {@code --composition} (refused by name when unknown), or null. */
    Composition composition(CommandLine commandLine) {
        return composition == null ? null
                : OptionChecks.parse(commandLine, "--composition", () -> Composition.parse(composition));
    }

    /** Options that make a command resolve exactly {@code config} from the same weights (every field given). */
    static List<String> exactly(MmcaConfig config) {
        List<String> options = new ArrayList<>(List.of("--heads", Integer.toString(config.heads()), "--kv-heads",
                Integer.toString(config.kvHeads()), "--dim-head", Integer.toString(config.dimHead()), "--causal",
                Boolean.toString(config.causal()), "--qk-norm", Boolean.toString(config.qkNorm()),
                "--composition", config.composition().name().toLowerCase(Locale.ROOT),
                "--head-mapping", config.headMapping().name().toLowerCase(Locale.ROOT)));
        if (config.composition() == Composition.INTERLEAVED) {
            options.addAll(List.of("--image-attention", config.imageAttention().label()));
        }
        return options;
    }
}
