package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backends;
import dev.mmca.backend.PerturbedBackend;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.ParityCase;
import dev.mmca.parity.ParityCases;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.testkit.ParityAssertions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code mmca parity} agrees with the checks of the library's own tests (the same relative errors, the same
 * verdicts) on every golden fixture and on the parity sweep, finds a deliberately broken backend and names it,
 * runs thread counts this JVM cannot set in fresh JVMs, and refuses bad options naming them.
 */
class ParityCommandTest {
    @TempDir
    Path tmp;

    /** The java pool's size here: thread counts equal to it run in this JVM. */
    private static final int HERE = JavaBackend.threads();

    static List<String> goldenCases() throws IOException {
        return RunCommandTest.goldenCases();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("goldenCases")
    void agreesWithTheTestsOnEveryGoldenFixture(String name) throws IOException {
        Path c = RunCommandTest.GOLDEN.resolve(name);
        List<String> args = new ArrayList<>(List.of("parity", "--weights", c.resolve("weights.safetensors").toString(),
                "--visual", c.resolve("visual.npy").toString(), "--text", c.resolve("text.npy").toString()));
        Path vm = c.resolve("visual_mask.npy");
        Path tm = c.resolve("text_mask.npy");
        if (Files.exists(vm)) {
            args.addAll(List.of("--visual-mask", vm.toString()));
        }
        if (Files.exists(tm)) {
            args.addAll(List.of("--text-mask", tm.toString()));
        }
        LoadedModel model = ModelFiles.read(c.resolve("weights.safetensors"), dev.mmca.io.ConfigOverrides.none());
        MmcaInputs in = new MmcaInputs(Npy.read(c.resolve("visual.npy")).toFloatTensor(),
                Npy.read(c.resolve("text.npy")).toFloatTensor(), Files.exists(vm) ? Npy.read(vm).toMask() : null,
                Files.exists(tm) ? Npy.read(tm).toMask() : null);
        checkAgreement(args, model.config(), model.weights(), in);
    }

    static Stream<ParityCase> sweep() {
        return ParityCases.sweep(6).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sweep")
    void agreesWithTheTestsOnTheParitySweep(ParityCase c) throws IOException {
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, c.config(), c.weights());
        MmcaInputs in = c.inputs();
        Npy.writeFloats(tmp.resolve("v.npy"), in.visual());
        Npy.writeFloats(tmp.resolve("t.npy"), in.text());
        List<String> args = new ArrayList<>(List.of("parity", "--weights", w.toString(), "--visual",
                tmp.resolve("v.npy").toString(), "--text", tmp.resolve("t.npy").toString()));
        if (in.visualMask() != null) {
            Npy.writeMask(tmp.resolve("vm.npy"), in.visualMask());
            args.addAll(List.of("--visual-mask", tmp.resolve("vm.npy").toString()));
        }
        if (in.textMask() != null) {
            Npy.writeMask(tmp.resolve("tm.npy"), in.textMask());
            args.addAll(List.of("--text-mask", tmp.resolve("tm.npy").toString()));
        }
        checkAgreement(args, c.config(), c.weights(), in);
    }

    /**
     * Runs {@code args} on java and cpu at this JVM's thread count and checks every row against what the tests
     * compute for the same path: the relative error to the last bit, and the verdict of their bound (for the java
     * kernel set not in force here, which the command runs in a fresh JVM: the verdict).
     */
    private static void checkAgreement(List<String> args, MmcaConfig config, MmcaWeights weights, MmcaInputs in) {
        List<String> all = new ArrayList<>(args);
        all.addAll(List.of("--backends", "java,cpu", "--threads", Integer.toString(HERE), "--json"));
        CommandTestSupport.Result r = CommandTestSupport.run(all.toArray(new String[0]));
        List<Map<String, String>> rows = rows(r.out);
        Reference64.Output ref = Reference64.simpleMmca(config, weights, in);
        boolean decodable = config.composition() == Composition.CROSS && config.causal();
        boolean allWithin = true;
        int compared = 0;
        List<KernelPath> paths = new ArrayList<>(KernelPaths.of(Backends.byName("java")));
        paths.addAll(KernelPaths.of(Backends.byName("cpu")));
        for (KernelPath p : paths) {
            if (!p.availability().isAvailable()) {
                assertEquals("skipped", row(rows, p.id(), "*", r).get("status"), r.toString());
                continue;
            }
            if (p.obstacleHere(HERE) != null) {
                // the other java kernel set: the command ran it in a fresh JVM, this test cannot here
                for (String o : List.of("forward.visual", "forward.text")) {
                    assertEquals("pass", row(rows, p.id(), o, r).get("status"), p.id() + " " + o + ": " + r);
                }
                continue;
            }
            MmcaOutput out;
            try (KernelPath.Selection s = p.select(HERE); SimpleMmca m = SimpleMmca.create(config, weights, p.backend())) {
                out = m.forward(in);
            }
            for (String o : List.of("visual", "text")) {
                Comparison expected = Comparison.of(o.equals("visual") ? out.visual() : out.text(),
                        o.equals("visual") ? ref.visual : ref.text);
                Map<String, String> row = row(rows, p.id(), "forward." + o, r);
                assertEquals(expected.relativeError(), Double.parseDouble(row.get("relative_error")),
                        p.id() + " forward." + o);
                boolean within = expected.relativeError() <= Precision.FP32.relativeTolerance();
                allWithin &= within;
                assertEquals(within ? "pass" : "fail", row.get("status"), p.id() + " forward." + o);
                compared++;
            }
            for (String o : List.of("visual", "text")) {
                if (decodable) {
                    Map<String, String> row = row(rows, p.id(), "decoding." + o, r);
                    assertEquals("forward." + o, row.get("against"));
                    assertEquals(o.equals("visual") ? 0.0 : Precision.FP32.reorderingTolerance(),
                            Double.parseDouble(row.get("tolerance")));
                    assertEquals("pass", row.get("status"), p.id() + " decoding." + o + ": " + r);
                } else {
                    assertEquals("not_applicable", row(rows, p.id(), "decoding.*", r).get("status"));
                }
            }
        }
        assertTrue(compared >= 4, "java and at least one cpu path were compared: " + r);
        assertEquals(allWithin ? 0 : 1, r.exitCode, r.toString());
        assertTrue(allWithin, "the library's own tests require every path within 1e-5: " + r);
    }

    @Test
    void aBrokenBackendIsFoundAndNamedAndOnlyItFails() throws Exception {
        MmcaConfig config = MmcaConfig.builder().dim(24).heads(4).kvHeads(2).dimHead(8).build();
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, config, MmcaWeights.random(config, 3));
        List<String> cp = ForkedMmca.withPerturbedBackend(tmp);

        CommandTestSupport.Result broken = ForkedMmca.run(cp, List.of(), "parity", "--weights", w.toString(),
                "--random", "--threads", "1");
        assertEquals(1, broken.exitCode, broken.toString());
        // the one error line (a fresh JVM may log its choice of java kernels first)
        List<String> errors = broken.err.lines().filter(l -> l.startsWith("mmca parity: error: ")).toList();
        assertEquals(1, errors.size(), broken.err);
        assertTrue(errors.get(0).startsWith("mmca parity: error: outside the bounds or failed: perturbed/default;"),
                broken.err);
        assertTrue(Pattern.compile("(?m)^perturbed/default +fp32 +forward\\.visual +float64 +\\S+ +\\S+ +\\[.*\\] +1e-05"
                + " +FAIL").matcher(broken.out).find(), broken.out);
        for (String set : List.of("vector", "scalar")) {
            assertTrue(Pattern.compile("(?m)^java/" + set + " +fp32 +forward\\.visual +float64 .* ok ")
                    .matcher(broken.out).find(), broken.out);
        }
        assertFalse(broken.err.contains("java/"), "only the broken path is named: " + broken.err);

        // below the bound, the same backend passes: the verdict is the bound, not the name
        CommandTestSupport.Result slight = ForkedMmca.run(cp, List.of("-D" + PerturbedBackend.PROPERTY + "=1e-7"),
                "parity", "--weights", w.toString(), "--random", "--threads", "1", "--backends", "perturbed");
        assertEquals(0, slight.exitCode, slight.toString());
        assertTrue(slight.out.contains("perturbed/default"), slight.out);
    }

    @Test
    void threadCountsThisJvmCannotSetRunInFreshJvmsAndAgree() throws IOException {
        MmcaConfig config = MmcaConfig.builder().dim(20).heads(4).kvHeads(1).dimHead(5).build();
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, config, MmcaWeights.random(config, 5));
        int other = HERE + 1;
        CommandTestSupport.Result r = CommandTestSupport.run("parity", "--weights", w.toString(), "--random",
                "--batch", "2", "--visual-tokens", "9", "--text-tokens", "11", "--backends", "java", "--threads",
                HERE + "," + other, "--json");
        assertEquals(0, r.exitCode, r.toString());
        List<Map<String, String>> rows = rows(r.out);
        // both kernel sets at both counts: the one not in force, and the other count, in fresh JVMs
        for (KernelPath p : KernelPaths.of(JavaBackend.instance())) {
            for (String o : List.of("forward.visual", "forward.text", "decoding.visual", "decoding.text")) {
                Map<String, String> row = row(rows, p.id(), o, r);
                assertEquals("pass", row.get("status"), p.id() + " " + o + ": " + r);
                assertEquals("true", row.get("threads_identical"), p.id() + " " + o + ": " + r);
                assertEquals("\"threads " + HERE + "," + other + "\"", row.get("threads"), o);
            }
        }
        assertTrue(r.out.contains("\"inputs\":\"random (seed 1): batch 2, 9 visual and 11 text tokens, padding masks\""),
                r.out);
    }

    @Test
    void theTableNamesEveryPathAndTheSkippedOnesWithTheirReason() throws IOException {
        MmcaConfig config = MmcaConfig.builder().dim(16).heads(2).dimHead(8).composition(Composition.SEED).build();
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, config, MmcaWeights.random(config, 7));
        CommandTestSupport.Result r = CommandTestSupport.run("parity", "--weights", w.toString(), "--random",
                "--threads", Integer.toString(HERE));
        assertEquals(0, r.exitCode, r.toString());
        assertTrue(r.out.startsWith("mmca parity: MmcaConfig{dim=16, heads=2"), r.out);
        assertTrue(r.out.contains("random (seed 1): batch 3, 17 visual and 17 text tokens"), "seed: Nt = Nv\n" + r.out);
        for (KernelPath p : KernelPaths.all()) {
            assertTrue(r.out.contains(p.id()), p.id() + " in\n" + r.out);
            if (!p.availability().isAvailable()) {
                assertTrue(r.out.contains(p.id() + " *: skipped: not available: " + p.availability().reason()), r.out);
            }
        }
        for (KernelPath p : KernelPaths.of(JavaBackend.instance())) {
            assertTrue(r.out.contains(p.id() + " decoding.*: n/a: incremental decoding: composition SEED"), r.out);
        }
        assertTrue(r.out.contains("outputs within their bounds"), r.out);
        String header = r.out.lines().filter(l -> l.startsWith("path ")).findFirst().orElseThrow();
        assertTrue(header.matches("path +precision +output +against +rel_error +max_abs +at \\[b, t, c\\] +bound"
                + " +result +threads +ms"), header);
    }

    @Test
    void aBackendAskedForByNameThatCannotRunFails() throws IOException {
        MmcaConfig config = MmcaConfig.builder().dim(16).heads(2).dimHead(8).build();
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, config, MmcaWeights.random(config, 7));
        KernelPath cuda = KernelPaths.of(Backends.byName("cuda")).get(0);
        org.junit.jupiter.api.Assumptions.assumeFalse(cuda.availability().isAvailable(), "this host has a GPU");
        CommandTestSupport.Result r = CommandTestSupport.run("parity", "--weights", w.toString(), "--random",
                "--backends", "java,cuda", "--threads", Integer.toString(HERE));
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("cuda/* *: requested but not available: " + cuda.availability().reason()), r.err);
    }

    @Test
    void badOptionsAreRefusedNamingTheOptionWhatWasExpectedAndWhatCame() throws IOException {
        MmcaConfig config = MmcaConfig.builder().dim(16).heads(2).dimHead(8).build();
        Path w = tmp.resolve("w.safetensors");
        ModelFiles.save(w, config, MmcaWeights.random(config, 7));
        Path v = tmp.resolve("v.npy");
        Npy.writeFloats(v, dev.mmca.parity.SeededInputs.normal(1, 2, 3, 16));
        Path t = tmp.resolve("t.npy");
        Npy.writeFloats(t, dev.mmca.parity.SeededInputs.normal(2, 2, 4, 15));
        String ws = w.toString();
        Object[][] usage = {
            {new String[] {"--weights", ws}, "mmca parity: error: --visual: expected --visual and --text (or --random),"
                + " got neither"},
            {new String[] {"--weights", ws, "--visual", v.toString()}, "mmca parity: error: --text: expected --visual and"
                + " --text (or --random), got only --visual"},
            {new String[] {"--weights", ws, "--random", "--visual", v.toString()}, "mmca parity: error: --random:"
                + " expected either --random or input files, got both (--visual)"},
            {new String[] {"--weights", ws, "--visual", v.toString(), "--text", t.toString(), "--batch", "2"},
                "mmca parity: error: --batch: expected only with --random, got it with --visual and --text"},
            {new String[] {"--weights", ws, "--random", "--batch", "0"}, "mmca parity: error: --batch: expected 1 to"
                + " 65536, got 0"},
            {new String[] {"--weights", ws, "--random", "--threads", "1,0"}, "mmca parity: error: --threads: expected"
                + " counts from 1 to 1024, got 0"},
            {new String[] {"--weights", ws, "--random", "--backends", "java,tpu"}, "mmca parity: error: --backends:"
                + " expected all or names from " + Backends.names() + " (name:N for a device), got 'tpu'"},
            {new String[] {"--weights", ws, "--random", "--composition", "seed", "--visual-tokens", "5",
                "--text-tokens", "4"}, "mmca parity: error: --text-tokens: composition seed adds visual and text token"
                + " by token, so it expected as many text tokens as visual tokens (5), got 4"},
        };
        assertUsageErrors(usage);
        CommandTestSupport.Result missing = CommandTestSupport.run("parity", "--weights", tmp.resolve("none").toString(),
                "--random");
        assertEquals(1, missing.exitCode, missing.toString());
        assertTrue(missing.err.startsWith("mmca parity: error: --weights: " + tmp.resolve("none")), missing.err);
        CommandTestSupport.Result shape = CommandTestSupport.run("parity", "--weights", ws, "--visual", v.toString(),
                "--text", t.toString());
        assertEquals(1, shape.exitCode, shape.toString());
        assertTrue(shape.err.startsWith("mmca parity: error: --text: " + t + ": text: expected"), shape.err);
    }

    @Test
    void theKitAssertsWhatTheCommandReports() throws IOException {
        // the test kit's assertion and the command judge a path alike: same bound, same error
        ParityCase c = ParityCases.sweep(0).get(0);
        KernelPath java = KernelPaths.of(JavaBackend.instance()).get(0);
        MmcaOutput out = ParityAssertions.assertMatchesReference(java, c.config(), c.weights(), c.inputs());
        assertNotNull(out);
        Comparison visual = Comparison.of(out.visual(), Reference64.simpleMmca(c.config(), c.weights(), c.inputs())
                .visual);
        assertTrue(visual.within(java.precision().relativeTolerance()), visual.toString());
    }

    /** Each {arguments, error line} of {@code usage}: {@code mmca parity ARGUMENTS} exits with 2 and that line. */
    static void assertUsageErrors(Object[][] usage) {
        for (Object[] u : usage) {
            List<String> args = new ArrayList<>(List.of("parity"));
            args.addAll(List.of((String[]) u[0]));
            CommandTestSupport.Result r = CommandTestSupport.run(args.toArray(new String[0]));
            assertEquals(2, r.exitCode, args + ": " + r);
            assertEquals(u[1], r.err.lines().filter(l -> !l.contains(": warning: ")).findFirst().orElse(""),
                    args.toString());
        }
    }

    /** The rows of {@code mmca parity --json}: one object per line, values as written (strings with quotes). */
    static List<Map<String, String>> rows(String json) {
        List<Map<String, String>> rows = new ArrayList<>();
        Pattern field = Pattern.compile("\"(\\w+)\":(\"(?:[^\"\\\\]|\\\\.)*\"|\\{[^}]*\\}|\\[[^\\]]*\\]|[^,{}\\[\\]]+)");
        for (String line : json.split("\n")) {
            if (!line.startsWith("{\"path\":")) {
                continue;
            }
            Map<String, String> row = new LinkedHashMap<>();
            Matcher m = field.matcher(line);
            while (m.find()) {
                String v = m.group(2);
                boolean plain = v.startsWith("\"") && List.of("path", "backend", "precision", "output", "status",
                        "against").contains(m.group(1));
                row.put(m.group(1), plain ? v.substring(1, v.length() - 1) : v);
            }
            rows.add(row);
        }
        return rows;
    }

    /** The row of {@code path} and {@code output} among {@link #rows}; {@code context} describes the run. */
    static Map<String, String> row(List<Map<String, String>> rows, String path, String output, Object context) {
        return rows.stream().filter(r -> path.equals(r.get("path")) && output.equals(r.get("output"))).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + path + " " + output + " in " + context));
    }
}
