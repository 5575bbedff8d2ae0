package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.backend.Backends;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.parity.SeededInputs;
import dev.mmca.testing.InterleavedCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code mmca parity --composition interleaved}: on the PyTorch fixtures and on random inputs it agrees with the
 * library's own checks (the same relative errors, the same verdicts, decoding against the forward), a broken
 * interleaved path is found and named, and bad options are refused naming the option.
 */
class ParityInterleavedTest {
    private static final int HERE = JavaBackend.threads();
    private static final MmcaConfig CONFIG = InterleavedCases.config(24, 4, 2, 8, HeadMapping.MODULO, false,
            ImageAttention.BLOCK);

    @TempDir
    Path tmp;

    static List<String> goldenCases() throws IOException {
        return Files.readAllLines(RunCommandTest.GOLDEN.resolve("interleaved_cases.txt")).stream().map(String::trim)
                .filter(c -> !c.isEmpty()).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void agreesWithTheTestsOnEveryInterleavedFixture(String name) throws IOException {
        Path c = RunCommandTest.GOLDEN.resolve(name);
        Path weights = c.resolve("weights.safetensors");
        LoadedInterleaved model = ModelFiles.readInterleaved(weights, ConfigOverrides.none());
        FloatTensor x = Npy.read(c.resolve("tokens.npy")).toFloatTensor();
        Modality m = Npy.readIntegers(c.resolve("modality.npy")).toModality();
        // --tokens and --modality choose the composition, as for mmca run
        checkAgreement(List.of("parity", "--weights", weights.toString(), "--tokens", c.resolve("tokens.npy")
                .toString(), "--modality", c.resolve("modality.npy").toString()), model.config(), model.weights(), x,
                m);
    }

    @Test
    void agreesWithTheTestsOnRandomInputsUnderBothRules() throws IOException {
        for (ImageAttention rule : ImageAttention.values()) {
            MmcaConfig config = CONFIG.toBuilder().imageAttention(rule).build();
            MgqaWeights w = MgqaWeights.random(config, 5);
            Path weights = tmp.resolve("w-" + rule.label() + ".safetensors");
            ModelFiles.saveInterleaved(weights, config, w);
            FloatTensor x = SeededInputs.normal(7, 2, 40, config.dim());
            Modality m = SeededInputs.modality(8, 2, 40);
            String out = checkAgreement(List.of("parity", "--composition", "interleaved", "--weights",
                    weights.toString(), "--random", "--seed", "7", "--batch", "2", "--length", "40"), config, w, x, m);
            assertTrue(out.contains("\"inputs\":\"random (seed 7): batch 2, 40 interleaved tokens (runs of text, image"
                    + " and padding)\""), out);
            assertTrue(out.contains("imageAttention=" + rule.name()), out);
        }
    }

    /**
     * Runs {@code args} on java and cpu at this JVM's thread count and checks every row against what the tests
     * compute for the same path (for the java kernel set not in force here, which runs in a fresh JVM: the
     * verdict); returns the command's output.
     */
    private static String checkAgreement(List<String> args, MmcaConfig config, MgqaWeights w, FloatTensor x,
            Modality m) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--backends", "java,cpu", "--threads", Integer.toString(HERE), "--json"));
        CommandTestSupport.Result r = CommandTestSupport.run(all.toArray(new String[0]));
        assertEquals(0, r.exitCode, r.toString());
        List<Map<String, String>> rows = ParityCommandTest.rows(r.out);
        double[][][] ref = Reference64.interleaved(config, w, x, m);
        List<KernelPath> paths = new ArrayList<>(KernelPaths.of(Backends.byName("java")));
        paths.addAll(KernelPaths.of(Backends.byName("cpu")));
        int compared = 0;
        for (KernelPath p : paths) {
            if (!p.availability().isAvailable()) {
                assertEquals("skipped", ParityCommandTest.row(rows, p.id(), "*", r).get("status"), r.toString());
                continue;
            }
            Map<String, String> forward = ParityCommandTest.row(rows, p.id(), "forward.out", r);
            assertEquals("float64", forward.get("against"));
            assertEquals("pass", forward.get("status"), p.id() + ": " + r);
            Map<String, String> decoding = ParityCommandTest.row(rows, p.id(), "decoding.out", r);
            assertEquals("forward.out", decoding.get("against"));
            assertEquals(Precision.FP32.reorderingTolerance(), Double.parseDouble(decoding.get("tolerance")));
            assertEquals("pass", decoding.get("status"), p.id() + ": " + r);
            if (p.obstacleHere(HERE) != null) {
                continue;  // the other java kernel set, run in a fresh JVM
            }
            FloatTensor out;
            try (KernelPath.Selection s = p.select(HERE);
                    InterleavedMmca model = InterleavedMmca.create(config, w, p.backend())) {
                out = model.forward(x, m);
            }
            assertEquals(Comparison.of(out, ref).relativeError(), Double.parseDouble(forward.get("relative_error")),
                    p.id() + " forward.out");
            compared++;
        }
        assertTrue(compared >= 2, "java and at least one cpu path were compared: " + r);
        return r.out;
    }

    @Test
    void aBrokenInterleavedPathIsFoundAndNamedAndOnlyItFails() throws Exception {
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.saveInterleaved(w, CONFIG, MgqaWeights.random(CONFIG, 3));
        List<String> cp = ForkedMmca.withPerturbedBackend(tmp);

        CommandTestSupport.Result broken = ForkedMmca.run(cp, List.of(), "parity", "--composition", "interleaved",
                "--weights", w.toString(), "--random", "--threads", "1");
        assertEquals(1, broken.exitCode, broken.toString());
        List<String> errors = broken.err.lines().filter(l -> l.startsWith("mmca parity: error: ")).toList();
        assertEquals(1, errors.size(), broken.err);
        assertTrue(errors.get(0).startsWith("mmca parity: error: outside the bounds or failed: perturbed/default;"
                + " perturbed/default forward.out: relative error "), broken.err);
        assertTrue(Pattern.compile("(?m)^perturbed/default +fp32 +forward\\.out +float64 +\\S+ +\\S+ +\\[.*\\] +1e-05"
                + " +FAIL").matcher(broken.out).find(), broken.out);
        // its decoding agrees with its own forward: the report says which part is broken
        assertTrue(Pattern.compile("(?m)^perturbed/default +fp32 +decoding\\.out +forward\\.out .* ok ")
                .matcher(broken.out).find(), broken.out);
        for (String set : List.of("vector", "scalar")) {
            assertTrue(Pattern.compile("(?m)^java/" + set + " +fp32 +forward\\.out +float64 .* ok ")
                    .matcher(broken.out).find(), broken.out);
        }
        assertFalse(broken.err.contains("java/"), "only the broken path is named: " + broken.err);
    }

    @Test
    void badOptionsAreRefusedNamingTheOptionWhatWasExpectedAndWhatCame() throws IOException {
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.saveInterleaved(w, CONFIG, MgqaWeights.random(CONFIG, 3));
        Path x = tmp.resolve("x.npy");
        Npy.writeFloats(x, SeededInputs.normal(1, 2, 5, 24));
        Path m = tmp.resolve("m.npy");
        Npy.writeModality(m, Modality.parse("ttiit", "iit.."));
        Path v = tmp.resolve("v.npy");
        Npy.writeFloats(v, SeededInputs.normal(2, 2, 3, 24));
        String ws = w.toString();
        Object[][] usage = {
            {new String[] {"--composition", "interleaved", "--weights", ws}, "mmca parity: error: --tokens: expected"
                + " --tokens and --modality (or --random), got neither"},
            {new String[] {"--weights", ws, "--modality", m.toString()}, "mmca parity: error: --tokens: expected"
                + " --tokens and --modality (or --random), got only --modality"},
            {new String[] {"--composition", "interleaved", "--weights", ws, "--random", "--tokens", x.toString()},
                "mmca parity: error: --random: expected either --random or input files, got both (--tokens)"},
            {new String[] {"--weights", ws, "--tokens", x.toString(), "--modality", m.toString(), "--length", "5"},
                "mmca parity: error: --length: expected only with --random, got it with --tokens and --modality"},
            {new String[] {"--composition", "interleaved", "--weights", ws, "--random", "--length", "0"},
                "mmca parity: error: --length: expected 1 to 65536, got 0"},
            {new String[] {"--composition", "interleaved", "--weights", ws, "--random", "--visual-tokens", "3"},
                "mmca parity: error: --visual-tokens: not an option with --composition interleaved (its inputs are"
                    + " --tokens and --modality, or --random with --batch and --length)"},
            {new String[] {"--weights", ws, "--tokens", x.toString(), "--modality", m.toString(), "--visual",
                v.toString()}, "mmca parity: error: --visual: not an option with --composition interleaved (its"
                    + " inputs are --tokens and --modality, or --random with --batch and --length)"},
            {new String[] {"--composition", "interleaved", "--weights", ws, "--random", "--causal", "false"},
                "mmca parity: error: --causal: composition interleaved is causal by definition (a text token sees"
                    + " the tokens up to itself), expected true, got false"},
            {new String[] {"--composition", "interleaved", "--weights", ws, "--random", "--image-attention", "all"},
                "mmca parity: error: --image-attention: expected self or block, got 'all'"},
            {new String[] {"--composition", "cross", "--weights", ws, "--random", "--image-attention", "self"},
                "mmca parity: error: --image-attention: not an option of composition cross or seed (it belongs to"
                    + " --composition interleaved)"},
            {new String[] {"--composition", "cross", "--weights", ws, "--random", "--length", "4"},
                "mmca parity: error: --length: not an option of composition cross or seed (it belongs to"
                    + " --composition interleaved)"},
        };
        ParityCommandTest.assertUsageErrors(usage);
        Path shortModality = tmp.resolve("m4.npy");
        Npy.writeModality(shortModality, Modality.parse("ttii", "iit."));
        CommandTestSupport.Result shape = CommandTestSupport.run("parity", "--weights", ws, "--tokens", x.toString(),
                "--modality", shortModality.toString());
        assertEquals(1, shape.exitCode, shape.toString());
        assertTrue(shape.err.startsWith("mmca parity: error: --modality: " + shortModality + ": modality: expected"
                + " shape [2, 5] (one modality per token), got [2, 4]"), shape.err);
        Path narrowTokens = tmp.resolve("x7.npy");
        Npy.writeFloats(narrowTokens, SeededInputs.normal(1, 2, 5, 7));
        CommandTestSupport.Result narrow = CommandTestSupport.run("parity", "--weights", ws, "--tokens",
                narrowTokens.toString(), "--modality", m.toString());
        assertEquals(1, narrow.exitCode, narrow.toString());
        assertTrue(narrow.err.startsWith("mmca parity: error: --tokens: " + narrowTokens + ": tokens: expected shape"
                + " [batch, tokens, 24] with at least one token, got [2, 5, 7]"), narrow.err);
    }

    @Test
    void theModalityWrittenForAFreshJvmReadsBackAsItWas() throws IOException {
        Modality m = SeededInputs.modality(3, 3, 17);
        Path f = tmp.resolve("m.npy");
        Npy.writeModality(f, m);
        assertEquals(m, Npy.readIntegers(f).toModality());
    }
}
