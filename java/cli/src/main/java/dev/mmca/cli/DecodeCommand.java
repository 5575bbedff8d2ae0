package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.NumericOverflowException;
import dev.mmca.SimpleMmca;
import dev.mmca.TextSession;
import dev.mmca.VisualContext;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Incremental decoding from files: the visual tokens are encoded once (a {@link VisualContext}), then the text
 * goes through a {@link TextSession} in steps of {@code --step} tokens. The outputs are those of {@code mmca run}
 * on the same files (to float32 rounding), written to the same two files; each step's time is printed.
 */
@Command(name = "decode", mixinStandardHelpOptions = true,
        description = {"Decode incrementally: encode the visual tokens once, then feed the text through a decoding"
                + " session in steps of --step tokens, and write the same two outputs as 'mmca run'.",
            "Takes the options of 'mmca run'. Prints the time of every step and a summary on stderr. Needs"
                + " composition cross with causal text (the others cannot be decoded in steps)."})
final class DecodeCommand implements Callable<Integer> {
    @CommandLine.Mixin
    ModelRunOptions options;

    @Option(names = "--step", defaultValue = "1", description = "text tokens per step (default: ${DEFAULT-VALUE}).")
    int step;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (step <= 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--step: expected a positive number of text"
                    + " tokens per step, got " + step);
        }
        ModelRunOptions.Loaded loaded = options.load();
        MmcaConfig config = loaded.model().config();
        MmcaInputs in = loaded.inputs();
        PrintWriter err = spec.commandLine().getErr();
        try (SimpleMmca model = SimpleMmca.create(config, loaded.model().weights(), loaded.backend())) {
            try {
                in.validate(config);  // every input checked before the first step, as 'mmca run' does
            } catch (IllegalArgumentException e) {
                throw PathArguments.attribute(e, loaded.inputPaths());
            }
            int batch = in.batch();
            int nt = in.textTokens();
            FloatTensor textOut = FloatTensor.zeros(batch, nt, config.dim());
            double[] stepMs = new double[(nt + step - 1) / step];
            long e0 = System.nanoTime();
            VisualContext context;
            try {
                context = model.encodeVisual(in.visual(), in.visualMask());
            } catch (IllegalStateException e) {
                // the composition or a non-causal text: the message says which and why
                throw new PathArguments.Failure(e.getMessage(), e);
            } catch (NumericOverflowException e) {
                throw options.overflow(e);
            }
            double encodeMs = (System.nanoTime() - e0) / 1e6;
            try (context; TextSession session = model.newTextSession(context, nt)) {
                int at = 0;
                for (int s = 0; s < stepMs.length; s++) {
                    int n = Math.min(step, nt - at);
                    FloatTensor part = in.text().tokens(at, n);
                    Mask partMask = in.textMask() == null ? null : in.textMask().tokens(at, n);
                    long t0 = System.nanoTime();
                    FloatTensor rows;
                    try {
                        rows = session.append(part, partMask);
                    } catch (NumericOverflowException e) {
                        throw options.overflow(e);
                    }
                    stepMs[s] = (System.nanoTime() - t0) / 1e6;
                    textOut.setTokens(at, rows);
                    err.printf(Locale.ROOT, "mmca decode: step %d, text tokens [%d, %d): %.3f ms%n", s + 1, at, at + n,
                            stepMs[s]);
                    at += n;
                }
                options.write(context.visualOutput(), textOut);
            }
            double[] sorted = stepMs.clone();
            Arrays.sort(sorted);
            double total = Arrays.stream(stepMs).sum();
            err.printf(Locale.ROOT, "mmca decode: %s on %s; visual context %.2f ms; %d steps of up to %d text tokens:"
                    + " median %.3f ms, max %.3f ms, total %.2f ms; wrote %s and %s%n", config, loaded.backend().name(),
                    encodeMs, stepMs.length, step, sorted[sorted.length / 2], sorted[sorted.length - 1], total,
                    options.outVisual, options.outText);
            err.flush();
        }
        return 0;
    }
}
