package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.parity.Precision;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@code mmca decode}: the outputs of {@code mmca run}, computed in steps, and its refusals. */
class DecodeCommandTest {
    @TempDir
    Path tmp;

    /** The golden cases that can be decoded (composition cross, causal text), per backend and step size. */
    static Stream<Arguments> decodableGoldenCases() throws IOException {
        List<String> cases = new ArrayList<>();
        for (String c : RunCommandTest.goldenCases()) {
            MmcaConfig config = ModelFiles.load(RunCommandTest.GOLDEN.resolve(c).resolve("weights.safetensors")).config();
            if (config.composition() == Composition.CROSS && config.textCausal()) {
                cases.add(c);
            }
        }
        assertTrue(cases.size() >= 3, "golden cases to decode: " + cases);
        return cases.stream().flatMap(c -> Stream.of("java", "cpu").flatMap(b -> Stream.of(1, 3)
                .map(step -> Arguments.of(c, b, step))));
    }

    private static List<String> caseArgs(String command, Path c, String backend, Path outVisual, Path outText) {
        List<String> args = new ArrayList<>(List.of(command, "--backend", backend,
                "--weights", c.resolve("weights.safetensors").toString(),
                "--visual", c.resolve("visual.npy").toString(), "--text", c.resolve("text.npy").toString(),
                "--out-visual", outVisual.toString(), "--out-text", outText.toString()));
        if (Files.exists(c.resolve("visual_mask.npy"))) {
            args.addAll(List.of("--visual-mask", c.resolve("visual_mask.npy").toString()));
        }
        if (Files.exists(c.resolve("text_mask.npy"))) {
            args.addAll(List.of("--text-mask", c.resolve("text_mask.npy").toString()));
        }
        return args;
    }

    @ParameterizedTest(name = "{0} on {1}, step {2}")
    @MethodSource("decodableGoldenCases")
    void decodedOutputsMatchPyTorchAndTheFullForward(String name, String backend, int step) throws IOException {
        Path c = RunCommandTest.GOLDEN.resolve(name);
        List<String> decode = caseArgs("decode", c, backend, tmp.resolve("dv.npy"), tmp.resolve("dt.npy"));
        decode.addAll(List.of("--step", String.valueOf(step)));
        CommandTestSupport.Result d = CommandTestSupport.run(decode.toArray(new String[0]));
        assertEquals(0, d.exitCode, d.toString());
        CommandTestSupport.Result r = CommandTestSupport.run(caseArgs("run", c, backend, tmp.resolve("rv.npy"),
                tmp.resolve("rt.npy")).toArray(new String[0]));
        assertEquals(0, r.exitCode, r.toString());

        RunCommandTest.assertRelativeError(tmp.resolve("dv.npy"), c.resolve("expected_visual.npy"),
                Precision.FP32.relativeTolerance());
        RunCommandTest.assertRelativeError(tmp.resolve("dt.npy"), c.resolve("expected_text.npy"),
                Precision.FP32.relativeTolerance());
        // the visual output is the same computation; the text rows equal the full forward's to float32 rounding
        float[] rv = Npy.read(tmp.resolve("rv.npy")).toFloatTensor().toArray();
        float[] dv = Npy.read(tmp.resolve("dv.npy")).toFloatTensor().toArray();
        assertTrue(java.util.Arrays.equals(rv, dv), "visual output identical to mmca run");
        assertTrue(relativeError(Npy.read(tmp.resolve("dt.npy")).toFloatTensor(),
                Npy.read(tmp.resolve("rt.npy")).toFloatTensor()) <= 1e-6, "text output equals mmca run's");

        int nt = Npy.read(c.resolve("text.npy")).toFloatTensor().dim(1);
        long stepLines = d.err.lines().filter(l -> l.startsWith("mmca decode: step ")).count();
        assertEquals((nt + step - 1) / step, stepLines, d.err);
        assertTrue(d.err.contains("steps of up to " + step + " text tokens: median "), d.err);
    }

    private static double relativeError(FloatTensor got, FloatTensor want) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.size(); i++) {
            double e = got.get(i) - want.get(i);
            num += e * e;
            den += (double) want.get(i) * want.get(i);
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    @Test
    void compositionsThatCannotStreamAreRefusedWithTheReasonAndNoOutput() throws IOException {
        for (String name : new String[] {"seed-mha-nomask", "cross-gqa-grouped-scattered-bidir",
            "cross-grouped-qknorm-emptyrows"}) {
            Path c = RunCommandTest.GOLDEN.resolve(name);
            CommandTestSupport.Result d = CommandTestSupport.run(caseArgs("decode", c, "java", tmp.resolve("v.npy"),
                    tmp.resolve("t.npy")).toArray(new String[0]));
            assertEquals(1, d.exitCode, d.toString());
            assertTrue(d.err.startsWith("mmca decode: error: incremental decoding: "), d.err);
            assertTrue(d.err.contains(name.startsWith("seed") ? "composition SEED" : "not causal"), d.err);
            assertFalse(Files.exists(tmp.resolve("v.npy")) || Files.exists(tmp.resolve("t.npy")), "no output");
        }
    }

    @Test
    void aBadStepOrBadInputIsAClearErrorBeforeAnyStep() throws IOException {
        MmcaConfig c = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(4).build();
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, c, MmcaWeights.random(c, 3));
        Path v = tmp.resolve("v.npy");
        Path t = tmp.resolve("t.npy");
        Npy.writeFloats(v, RandomInputs.normal(1, 2, 3, c.dim()));
        Npy.writeFloats(t, RandomInputs.normal(2, 2, 4, c.dim()));
        CommandTestSupport.Result d = CommandTestSupport.run("decode", "--weights", w.toString(), "--visual",
                v.toString(), "--text", t.toString(), "--step", "0", "--out-visual", tmp.resolve("a.npy").toString(),
                "--out-text", tmp.resolve("b.npy").toString());
        assertEquals(2, d.exitCode, d.toString());
        assertTrue(d.err.contains("--step: expected a positive number of text tokens per step, got 0"), d.err);

        Npy.writeFloats(t, RandomInputs.normal(2, 2, 4, 15));
        d = CommandTestSupport.run("decode", "--weights", w.toString(), "--visual", v.toString(), "--text",
                t.toString(), "--out-visual", tmp.resolve("a.npy").toString(), "--out-text",
                tmp.resolve("b.npy").toString());
        assertEquals(1, d.exitCode, d.toString());
        assertTrue(d.err.contains("--text: " + t + ": text: expected last dimension dim = 16"), d.err);
        assertFalse(Files.exists(tmp.resolve("a.npy")), "no output on error");
    }
}
