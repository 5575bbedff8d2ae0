package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.Modality;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mmca run --composition interleaved}: the output, and every refusal naming the option and the path. */
class RunInterleavedTest {
    private static final MmcaConfig CONFIG = InterleavedCases.config(12, 4, 2, 8, HeadMapping.GROUPED, false,
            ImageAttention.SELF);

    @TempDir
    Path tmp;

    Path weights;
    Path tokens;
    Path modality;
    MgqaWeights w;
    FloatTensor x;
    Modality m = Modality.parse("ttiiiti.", "iiittt..");

    @BeforeEach
    void files() throws IOException {
        w = MgqaWeights.random(CONFIG, 2);
        weights = tmp.resolve("w.safetensors");
        ModelFiles.saveInterleaved(weights, CONFIG, w);
        x = RandomInputs.normal(3, 2, 8, 12);
        tokens = tmp.resolve("x.npy");
        Npy.writeFloats(tokens, x);
        modality = tmp.resolve("m.npy");
        writeInt64(modality, m.bytesView(), 2, 8);
    }

    /** An {@code <i8} .npy, as numpy saves an integer array by default. */
    static void writeInt64(Path file, byte[] values, int rows, int cols) throws IOException {
        String dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }";
        StringBuilder h = new StringBuilder(dict);
        while ((10 + h.length() + 1) % 64 != 0) {
            h.append(' ');
        }
        h.append('\n');
        ByteBuffer b = ByteBuffer.allocate(10 + h.length() + 8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) h.length()).put(h.toString().getBytes(StandardCharsets.US_ASCII));
        for (byte v : values) {
            b.putLong(v);
        }
        Files.write(file, b.array());
    }

    private CommandTestSupport.Result run(String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "--weights", weights.toString(), "--tokens",
                tokens.toString(), "--modality", modality.toString()));
        args.addAll(List.of(extra));
        return CommandTestSupport.run(args.toArray(new String[0]));
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> goldenCasesPerBackend()
            throws IOException {
        return Files.readAllLines(RunCommandTest.GOLDEN.resolve("interleaved_cases.txt")).stream().map(String::trim)
                .filter(c -> !c.isEmpty()).flatMap(c -> java.util.stream.Stream.of("java", "cpu")
                        .map(b -> org.junit.jupiter.params.provider.Arguments.of(c, b)));
    }

    /** The fixtures of the independent PyTorch implementation (tools/golden), through the command line. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} on {1}")
    @org.junit.jupiter.params.provider.MethodSource("goldenCasesPerBackend")
    void reproducesPyTorchReferenceOutputs(String name, String backend) throws IOException {
        Path c = RunCommandTest.GOLDEN.resolve(name);
        Path o = tmp.resolve("out.npy");
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--composition", "interleaved", "--backend",
                backend, "--weights", c.resolve("weights.safetensors").toString(), "--tokens",
                c.resolve("tokens.npy").toString(), "--modality", c.resolve("modality.npy").toString(), "--out",
                o.toString());
        assertEquals(0, r.exitCode, r.toString());
        RunCommandTest.assertRelativeError(o, c.resolve("expected.npy"), 1e-5);
    }

    @Test
    void writesWhatTheModelComputesOnEveryRuleAndBackend() throws IOException {
        for (String backend : List.of("java", "cpu")) {
            for (ImageAttention rule : ImageAttention.values()) {
                Path out = tmp.resolve("o-" + backend + rule.label() + ".npy");
                CommandTestSupport.Result r = run("--composition", "interleaved", "--image-attention", rule.label(),
                        "--backend", backend, "--out", out.toString());
                assertEquals(0, r.exitCode, r.toString());
                assertTrue(r.err.contains("imageAttention=" + rule + "}") && r.err.contains("on " + backend), r.err);
                MmcaConfig c = CONFIG.toBuilder().imageAttention(rule).build();
                try (InterleavedMmca model = InterleavedMmca.create(c, w, "java")) {
                    float[] want = model.forward(x, m).toArray();
                    float[] got = Npy.read(out).toFloatTensor().toArray();
                    assertEquals(want.length, got.length);
                    double num = 0;
                    double den = 0;
                    for (int i = 0; i < want.length; i++) {
                        num += (got[i] - want[i]) * (got[i] - want[i]);
                        den += want[i] * want[i];
                    }
                    assertTrue(Math.sqrt(num / den) <= 1e-5, backend + " " + rule + ": " + Math.sqrt(num / den));
                }
            }
        }
        // the composition follows from --tokens; a |u1 modality reads as well
        Path u1 = tmp.resolve("m-u1.npy");
        Npy.writeMask(u1, dev.mmca.Mask.all(1, 1));  // placeholder file, replaced below
        byte[] header = Files.readAllBytes(u1);
        String text = new String(header, StandardCharsets.ISO_8859_1).replace("'|b1'", "'|u1'").replace("(1, 1)",
                "(2, 8)");
        byte[] head = text.substring(0, text.indexOf('\n') + 1).getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[head.length + 16];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(m.bytesView(), 0, all, head.length, 16);
        Files.write(u1, all);
        Path out = tmp.resolve("o-u1.npy");
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--weights", weights.toString(), "--tokens",
                tokens.toString(), "--modality", u1.toString(), "--out", out.toString(), "--backend", "java");
        assertEquals(0, r.exitCode, r.toString());
        assertArrayEquals(Npy.read(tmp.resolve("o-javaself.npy")).toFloatTensor().toArray(),
                Npy.read(out).toFloatTensor().toArray());
    }

    @Test
    void optionsOfTheOtherModeAndMissingOnesAreUsageErrors() {
        CommandTestSupport.Result r = run("--out", tmp.resolve("o.npy").toString(), "--visual", tokens.toString());
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --visual: not an option with --composition interleaved (its"
                + " inputs are --tokens and --modality, its output --out)"), r.err);
        r = CommandTestSupport.run("run", "--composition", "interleaved", "--tokens", tokens.toString());
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: Missing required options: '--weights=<weights>',"
                + " '--modality=<modality>', '--out=<out>'"), r.err);
        r = run();
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: Missing required option: '--out=<out>'"), r.err);
        r = CommandTestSupport.run("run", "--weights", weights.toString(), "--visual", tokens.toString(), "--text",
                tokens.toString(), "--out-visual", "a.npy", "--out-text", "b.npy", "--image-attention", "block");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --image-attention: not an option of composition cross or seed"),
                r.err);
        r = run("--out", tmp.resolve("o.npy").toString(), "--causal", "false");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --causal: composition interleaved is causal by definition"),
                r.err);
        r = run("--out", tmp.resolve("o.npy").toString(), "--image-attention", "all");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --image-attention: expected self or block, got 'all'"), r.err);
        assertFalse(Files.exists(tmp.resolve("o.npy")));
    }

    @Test
    void decodeRefusesTheInterleavedCompositionByName() {
        // decode shares run's model options but has no --tokens or --modality: the composition is refused as such
        CommandTestSupport.Result r = CommandTestSupport.run("decode", "--composition", "interleaved", "--weights",
                weights.toString(), "--visual", tokens.toString(), "--text", tokens.toString(), "--out-visual",
                tmp.resolve("a.npy").toString(), "--out-text", tmp.resolve("b.npy").toString());
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca decode: error: --composition: interleaved takes --tokens and --modality,"
                + " which are options of 'mmca run' only; 'mmca decode' runs cross or seed"), r.err);
        r = CommandTestSupport.run("decode", "--weights", weights.toString());
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca decode: error: Missing required options: '--visual=<visual>',"
                + " '--text=<text>', '--out-visual=<outVisual>', '--out-text=<outText>'"), r.err);
        assertFalse(Files.exists(tmp.resolve("a.npy")));
    }

    @Test
    void badFilesNameTheOptionAndThePath() throws IOException {
        Path out = tmp.resolve("o.npy");
        Path bad = tmp.resolve("bad.npy");
        byte[] values = m.toBytes();
        values[3] = 3;
        writeInt64(bad, values, 2, 8);
        CommandTestSupport.Result r = CommandTestSupport.run("run", "--weights", weights.toString(), "--tokens",
                tokens.toString(), "--modality", bad.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --modality: " + bad + ": expected modality values 0 (padding), 1"
                + " (text) or 2 (image), got 3 at [0, 3]"), r.err);
        Path shape = tmp.resolve("shape.npy");
        writeInt64(shape, new byte[] {1, 1, 2}, 1, 3);
        r = CommandTestSupport.run("run", "--weights", weights.toString(), "--tokens", tokens.toString(),
                "--modality", shape.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --modality: " + shape + ": modality: expected shape [2, 8] (one"
                + " modality per token), got [1, 3]"), r.err);
        Path wide = tmp.resolve("wide.npy");
        Npy.writeFloats(wide, RandomInputs.normal(1, 2, 8, 13));
        r = CommandTestSupport.run("run", "--weights", weights.toString(), "--tokens", wide.toString(),
                "--modality", modality.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --tokens: " + wide + ": tokens: expected shape [batch, tokens,"
                + " 12]"), r.err);
        Path simple = tmp.resolve("simple.safetensors");
        MmcaConfig c = MmcaConfig.builder().dim(12).heads(4).kvHeads(2).dimHead(8).build();
        ModelFiles.save(simple, c, MmcaWeights.random(c, 1));
        r = CommandTestSupport.run("run", "--weights", simple.toString(), "--tokens", tokens.toString(),
                "--modality", modality.toString(), "--out", out.toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --weights: " + simple + ": expected the four tensors of an"
                + " interleaved block"), r.err);
        r = CommandTestSupport.run("run", "--weights", weights.toString(), "--visual", tokens.toString(), "--text",
                tokens.toString(), "--out-visual", tmp.resolve("a.npy").toString(), "--out-text",
                tmp.resolve("b.npy").toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --weights: " + weights + ": composition: metadata says"
                + " interleaved"), r.err);
        r = run("--out", modality.toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --out: " + modality + ": expected a file other than the input"
                + " --modality"), r.err);
        Path big = tmp.resolve("big.npy");
        float[] huge = x.toArray();
        for (int i = 0; i < huge.length; i++) {
            huge[i] *= 1e20f;
        }
        Npy.writeFloats(big, FloatTensor.of(huge, 2, 8, 12));
        r = CommandTestSupport.run("run", "--weights", weights.toString(), "--tokens", big.toString(),
                "--modality", modality.toString(), "--out", out.toString(), "--backend", "java");
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --tokens: " + big + ": ") && r.err.contains("overflowed float32"),
                r.err);
        assertFalse(Files.exists(out), "no output on error");
    }
}
