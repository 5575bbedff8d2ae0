package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class RunCommandTest {
    /** Fixtures computed by an independent PyTorch implementation (tools/golden). */
    static final Path GOLDEN = Path.of("..", "core", "src", "test", "resources", "golden");

    @TempDir
    Path tmp;

    static List<String> goldenCases() throws IOException {
        return Files.readAllLines(GOLDEN.resolve("cases.txt")).stream().map(String::trim)
                .filter(s -> !s.isEmpty() && !s.startsWith("#")).collect(Collectors.toList());
    }

    /** Every golden case on the java backend and on the native cpu backend (built in the same reactor). */
    static Stream<org.junit.jupiter.params.provider.Arguments> goldenCasesPerBackend() throws IOException {
        return goldenCases().stream().flatMap(c -> Stream.of("java", "cpu")
                .map(b -> org.junit.jupiter.params.provider.Arguments.of(c, b)));
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("goldenCasesPerBackend")
    void reproducesPyTorchReferenceOutputs(String name, String backend) throws IOException {
        Path c = GOLDEN.resolve(name);
        List<String> args = new java.util.ArrayList<>(List.of("run", "--backend", backend,
                "--weights", c.resolve("weights.safetensors").toString(),
                "--visual", c.resolve("visual.npy").toString(), "--text", c.resolve("text.npy").toString(),
                "--out-visual", tmp.resolve("ov.npy").toString(), "--out-text", tmp.resolve("ot.npy").toString()));
        if (Files.exists(c.resolve("visual_mask.npy"))) {
            args.addAll(List.of("--visual-mask", c.resolve("visual_mask.npy").toString()));
        }
        if (Files.exists(c.resolve("text_mask.npy"))) {
            args.addAll(List.of("--text-mask", c.resolve("text_mask.npy").toString()));
        }
        CommandTestSupport.Result r = CommandTestSupport.run(args.toArray(new String[0]));
        assertEquals(0, r.exitCode, r.toString());
        assertRelativeError(tmp.resolve("ov.npy"), c.resolve("expected_visual.npy"), Precision.FP32.relativeTolerance());
        assertRelativeError(tmp.resolve("ot.npy"), c.resolve("expected_text.npy"), Precision.FP32.relativeTolerance());
    }

    static void assertRelativeError(Path out, Path expected, double bound) throws IOException {
        FloatTensor o = Npy.read(out).toFloatTensor();
        double[] e = Npy.read(expected).toDoubles();
        assertEquals(e.length, o.size(), "element count");
        double num = 0;
        double den = 0;
        for (int i = 0; i < e.length; i++) {
            assertTrue(Float.isFinite(o.get(i)), "non-finite output at " + i);
            num += (o.get(i) - e[i]) * (o.get(i) - e[i]);
            den += e[i] * e[i];
        }
        double rel = Math.sqrt(num / den);
        assertTrue(rel <= bound, out + ": relative error " + rel + " > " + bound);
    }

    private Path[] sample(MmcaConfig c) throws IOException {
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, c, MmcaWeights.random(c, 3));
        Path v = tmp.resolve("v.npy");
        Path t = tmp.resolve("t.npy");
        Npy.writeFloats(v, RandomInputs.normal(1, 2, 3, c.dim()));
        Npy.writeFloats(t, RandomInputs.normal(2, 2, 4, c.dim()));
        return new Path[] {w, v, t};
    }

    @Test
    void flagThatContradictsTheWeightsIsAClearError() throws IOException {
        MmcaConfig c = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(4).build();
        Path[] f = sample(c);
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--weights", f[0].toString(), "--visual",
                f[1].toString(), "--text", f[2].toString(), "--kv-heads", "4", "--out-visual",
                tmp.resolve("a.npy").toString(), "--out-text", tmp.resolve("b.npy").toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("kv_heads") || r.err.contains("kvHeads"), r.err);
        assertFalse(Files.exists(tmp.resolve("a.npy")), "no output on error");
    }

    @Test
    void inputWithTheWrongDimIsAClearErrorNamingTheArgument() throws IOException {
        MmcaConfig c = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(4).build();
        Path[] f = sample(c);
        Npy.writeFloats(f[2], RandomInputs.normal(2, 2, 4, 15));
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--weights", f[0].toString(), "--visual",
                f[1].toString(), "--text", f[2].toString(), "--out-visual", tmp.resolve("a.npy").toString(),
                "--out-text", tmp.resolve("b.npy").toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("text: expected last dimension dim = 16"), r.err);
    }

    @Test
    void unwritableOutputPathFailsAndLeavesNothingBehind() throws IOException {
        MmcaConfig c = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(4).build();
        Path[] f = sample(c);
        Path missingDir = tmp.resolve("no-such-dir").resolve("ov.npy");
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--weights", f[0].toString(), "--visual",
                f[1].toString(), "--text", f[2].toString(), "--out-visual", missingDir.toString(),
                "--out-text", tmp.resolve("b.npy").toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("no-such-dir"), r.err);
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains(".tmp")), "temp files left behind");
        }
    }

    @Test
    void missingWeightsFileNamesThePath() {
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--weights", tmp.resolve("nope.safetensors")
                .toString(), "--visual", "v.npy", "--text", "t.npy", "--out-visual", "a.npy", "--out-text", "b.npy");
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("nope.safetensors"), r.err);
    }
}
