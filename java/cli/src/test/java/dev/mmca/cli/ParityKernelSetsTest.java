package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.io.ModelFiles;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Reference64;
import dev.mmca.parity.SeededInputs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mmca parity} on the java backend's two kernel sets: the one in force runs in this JVM, the other in a
 * fresh JVM started with it by name, which computes with it (other bits) and refuses to run a set it was not
 * started with; in a JVM without the Vector API module the vector set is the one that needs the fresh JVM.
 */
class ParityKernelSetsTest {
    private static final MmcaConfig CONFIG = MmcaConfig.builder().dim(24).heads(4).kvHeads(2).dimHead(8).build();
    private static final int HERE = JavaBackend.threads();

    @TempDir
    Path tmp;

    Path weights;
    MmcaWeights w;

    @BeforeEach
    void files() throws Exception {
        w = MmcaWeights.random(CONFIG, 3);
        weights = tmp.resolve("w.safetensors");
        ModelFiles.save(weights, CONFIG, w);
    }

    @Test
    void bothSetsRunTheOneNotInForceInAFreshJvmWithItsOwnArithmetic() {
        List<KernelPath> java = KernelPaths.of(JavaBackend.instance());
        CommandTestSupport.Result r = CommandTestSupport.run("parity", "--weights", weights.toString(), "--random",
                "--backends", "java", "--threads", Integer.toString(HERE), "--json");
        assertEquals(0, r.exitCode, r.toString());
        List<Map<String, String>> rows = ParityCommandTest.rows(r.out);
        assertEquals(List.of(java.get(0).id(), java.get(1).id()), rows.stream().map(x -> x.get("path")).distinct()
                .toList(), "the set in force first");
        for (KernelPath p : java) {
            for (String o : List.of("forward.visual", "forward.text", "decoding.visual", "decoding.text")) {
                assertEquals("pass", ParityCommandTest.row(rows, p.id(), o, r).get("status"), p.id() + " " + o + ": "
                        + r);
            }
        }
        // the set in force: the error this JVM measures, to the last bit
        MmcaInputs in = SeededInputs.modelInputs(CONFIG, 1, 3, 17, 13, true);
        MmcaOutput out;
        try (SimpleMmca m = SimpleMmca.create(CONFIG, w, JavaBackend.instance())) {
            out = m.forward(in);
        }
        double here = Comparison.of(out.text(), Reference64.simpleMmca(CONFIG, w, in).text).relativeError();
        assertEquals(here, Double.parseDouble(ParityCommandTest.row(rows, java.get(0).id(), "forward.text", r)
                .get("relative_error")));
        // the other set computed with other kernels: another rounding, so another error
        assertNotEquals(here, Double.parseDouble(ParityCommandTest.row(rows, java.get(1).id(), "forward.text", r)
                .get("relative_error")), "the fresh JVM ran " + java.get(1).id() + ", not " + java.get(0).id());
    }

    @Test
    void withoutTheVectorModuleTheVectorSetRunsInAFreshJvmThatAddsIt() throws Exception {
        CommandTestSupport.Result r = ForkedMmca.run(ForkedMmca.testClassPath(), List.of(), "parity", "--weights",
                weights.toString(), "--random", "--backends", "java", "--threads", "1", "--json");
        assertEquals(0, r.exitCode, r.toString());
        List<Map<String, String>> rows = ParityCommandTest.rows(r.out);
        assertEquals(List.of("java/scalar", "java/vector"), rows.stream().map(x -> x.get("path")).distinct().toList(),
                r.toString());
        for (String p : List.of("java/scalar", "java/vector")) {
            for (String o : List.of("forward.visual", "forward.text", "decoding.text")) {
                assertEquals("pass", ParityCommandTest.row(rows, p, o, r).get("status"), p + " " + o + ": " + r);
            }
        }
    }

    @Test
    void aFreshJvmThatDoesNotHaveTheSetInForceRefusesToRunIt() throws Exception {
        KernelPath other = KernelPaths.of(JavaBackend.instance()).get(1);
        Path inputs = Files.createDirectories(tmp.resolve("inputs"));
        new ParityProblem.Simple(CONFIG, w, SeededInputs.modelInputs(CONFIG, 1, 2, 5, 4, true)).writeInputs(inputs);
        Path out = Files.createDirectories(tmp.resolve("out"));
        // this JVM stands in for a fresh JVM started without the other set's launch
        List<String> args = new ArrayList<>(List.of(ParityWorkerCommand.NAME, "--weights", weights.toString()));
        args.addAll(ConfigOptions.exactly(CONFIG));
        args.addAll(List.of("--inputs", inputs.toString(), "--path", other.id(), "--threads", "0", "--scenarios",
                "forward", "--out", out.toString()));
        CommandTestSupport.Result r = CommandTestSupport.run(args.toArray(new String[0]));
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("this JVM was started for " + other.id() + " with 0 threads, but cannot run it: "
                + other.obstacleHere(0)), r.err);
        try (var files = Files.list(out)) {
            assertEquals(0, files.count(), "no outputs written");
        }
    }
}
