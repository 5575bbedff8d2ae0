package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.Backends;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.io.Safetensors;
import dev.mmca.testing.RandomInputs;
import dev.mmca.testing.SpecialFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code mmca run} with special files, colliding paths, missing or odd inputs, and errors of the JVM. */
class RunFaultsTest {
    static final MmcaConfig CONFIG = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(4).build();

    @TempDir
    Path tmp;
    Path weights;
    Path visual;
    Path text;

    @BeforeAll
    static void backendChosenOutsideTheCapture() {
        Backends.select("java", CONFIG); // its one log line goes to the real stderr, not into a test's capture
    }

    @BeforeEach
    void files() throws IOException {
        weights = tmp.resolve("w.safetensors");
        ModelFiles.save(weights, CONFIG, MmcaWeights.random(CONFIG, 3));
        visual = tmp.resolve("v.npy");
        text = tmp.resolve("t.npy");
        Npy.writeFloats(visual, RandomInputs.normal(1, 2, 3, CONFIG.dim()));
        Npy.writeFloats(text, RandomInputs.normal(2, 2, 4, CONFIG.dim()));
    }

    private CommandTestSupport.Result run(Path w, Path v, Path t, Path ov, Path ot, String... extra) {
        List<String> args = new ArrayList<>(List.of("run", "--backend", "java", "--weights", w.toString(),
                "--visual", v.toString(), "--text", t.toString(), "--out-visual", ov.toString(),
                "--out-text", ot.toString()));
        args.addAll(Arrays.asList(extra));
        return assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> CommandTestSupport.run(args.toArray(new String[0])));
    }

    /** Exit code 1 and one error line that starts as given and contains the parts. */
    private static void assertError(CommandTestSupport.Result r, String start, String... parts) {
        assertEquals(1, r.exitCode, r.toString());
        String line = r.err.lines().filter(l -> l.startsWith("mmca run: error: ")).findFirst().orElse("");
        assertTrue(line.startsWith(start), "expected an error line starting with '" + start + "': " + r);
        for (String p : parts) {
            assertTrue(line.contains(p), "expected '" + p + "' in: " + line);
        }
        assertFalse(r.err.contains("\tat "), "no stack trace: " + r.err);
    }

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(tmp)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    // ---- 4: outputs never replace special files ----

    @Test
    void anOutputThatIsACharacterDeviceIsRefusedAndLeftAlone() throws IOException {
        Path dev = SpecialFiles.nullDevice(tmp.resolve("null"));
        CommandTestSupport.Result r = run(weights, visual, text, dev, tmp.resolve("ot.npy"));
        assertError(r, "mmca run: error: --out-visual: cannot write " + dev + ": expected a new path or a regular"
                + " file, got an existing character device; it is refused, not replaced");
        assertEquals("character special file", SpecialFiles.statType(dev));
        assertFalse(Files.exists(tmp.resolve("ot.npy")), "refused before any work");
    }

    @Test
    void anOutputThatIsAFifoIsRefusedAndLeftAlone() throws IOException {
        Path fifo = SpecialFiles.fifo(tmp.resolve("ot.npy"));
        CommandTestSupport.Result r = run(weights, visual, text, tmp.resolve("ov.npy"), fifo);
        assertError(r, "mmca run: error: --out-text: cannot write " + fifo, "FIFO (named pipe)", "refused");
        assertEquals("fifo", SpecialFiles.statType(fifo));
        assertFalse(Files.exists(tmp.resolve("ov.npy")), "refused before any work");
    }

    @Test
    void anOutputThatIsASymbolicLinkIsRefusedAndItsTargetKept() throws IOException {
        Path keep = Files.writeString(tmp.resolve("keep.txt"), "precious");
        Path link = Files.createSymbolicLink(tmp.resolve("ov.npy"), keep);
        CommandTestSupport.Result r = run(weights, visual, text, link, tmp.resolve("ot.npy"));
        assertError(r, "mmca run: error: --out-visual: cannot write " + link, "symbolic link to " + keep,
                "give the link's target instead");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("precious", Files.readString(keep));
    }

    // ---- 5: special inputs ----

    @Test
    void aFifoAsInputIsRefusedAtOnce() throws IOException {
        Path fifo = SpecialFiles.fifo(tmp.resolve("fifo.npy"));
        CommandTestSupport.Result r = run(weights, fifo, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy"));
        assertError(r, "mmca run: error: --visual: " + fifo + ": expected a regular file, got a FIFO (named pipe)");
        Path st = SpecialFiles.fifo(tmp.resolve("fifo.safetensors"));
        assertError(run(st, visual, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy")),
                "mmca run: error: --weights: " + st + ": expected a regular file, got a FIFO");
    }

    // ---- 6: collisions ----

    @Test
    void theSameFileForBothOutputsIsRefusedBeforeAnyWork() {
        Path x = tmp.resolve("x.npy");
        CommandTestSupport.Result r = run(weights, visual, text, x, x);
        assertError(r, "mmca run: error: --out-text: " + x + ": expected a file other than --out-visual (" + x + ")");
        assertFalse(Files.exists(x));
        Path spelled = tmp.resolve("sub").resolve("..").resolve("x.npy");
        CommandTestSupport.Result other = run(weights, visual, text, x, spelled);
        assertEquals(1, other.exitCode, "another spelling of the same path: " + other);
        assertFalse(Files.exists(x));
    }

    @Test
    void anOutputThatIsAnInputIsRefusedAndTheInputKept() throws IOException {
        byte[] before = Files.readAllBytes(visual);
        CommandTestSupport.Result r = run(weights, visual, text, visual, tmp.resolve("ot.npy"));
        assertError(r, "mmca run: error: --out-visual: " + visual + ": expected a file other than the input --visual");
        assertArrayEquals(before, Files.readAllBytes(visual));
        Path hardLink = Files.createLink(tmp.resolve("hard.npy"), weights);
        assertError(run(weights, visual, text, tmp.resolve("ov.npy"), hardLink),
                "mmca run: error: --out-text: " + hardLink + ": expected a file other than the input --weights");
        assertFalse(Files.exists(tmp.resolve("ov.npy")));
    }

    // ---- 8: messages with the option, the path and what went wrong ----

    @Test
    void aMissingInputNamesTheOptionThePathAndTheReason() {
        Path nope = tmp.resolve("nope.npy");
        assertError(run(weights, visual, nope, tmp.resolve("ov.npy"), tmp.resolve("ot.npy")),
                "mmca run: error: --text: " + nope + ": expected a file to read, found no such file");
    }

    @Test
    void aDirectoryAsInputNamesTheOptionThePathAndWhatItIs() throws IOException {
        Path d = Files.createDirectory(tmp.resolve("d.npy"));
        assertError(run(weights, d, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy")),
                "mmca run: error: --visual: " + d + ": expected a regular file, got a directory");
    }

    @Test
    void aMalformedInputAndAWrongShapeNameTheOptionAndThePath() throws IOException {
        Files.write(text, Arrays.copyOf(Files.readAllBytes(text), 128 + 8)); // the header and two values
        assertError(run(weights, visual, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy")),
                "mmca run: error: --text: " + text + ": data: expected");
        Npy.writeFloats(text, RandomInputs.normal(2, 3, 4, CONFIG.dim()));
        assertError(run(weights, visual, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy")),
                "mmca run: error: --text: " + text + ": text: expected batch 2 (as visual)");
    }

    @Test
    void aFullDiskNamesTheOptionTheTargetAndTheReason() throws Exception {
        Path mount = tmp.resolve("tiny");
        AutoCloseable fs = SpecialFiles.tinyFileSystem(mount, 16);
        try {
            Npy.writeFloats(visual, RandomInputs.normal(1, 2, 300, CONFIG.dim())); // 38 KB of output
            Path ov = mount.resolve("ov.npy");
            CommandTestSupport.Result r = run(weights, visual, text, ov, mount.resolve("ot.npy"));
            assertError(r, "mmca run: error: --out-visual: cannot write " + ov + ": No space left on device",
                    "temporary file " + mount, "the target is left as it was");
            try (Stream<Path> s = Files.list(mount)) {
                assertEquals(0, s.count(), "no file or temporary file is left on the full disk");
            }
        } finally {
            fs.close();
        }
    }

    @Test
    void warningsArePrintedOnceInTheCommandsFormatAndNotAlsoLogged() throws IOException {
        Map<String, FloatTensor> state = new LinkedHashMap<>(MmcaWeights.random(CONFIG, 3).toStateDict());
        state.put("extra.bias", FloatTensor.zeros(2));
        Safetensors.write(weights, state, Map.of("heads", "4"));
        List<LogRecord> logged = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord record) { logged.add(record); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        Logger.getLogger("").addHandler(h);
        CommandTestSupport.Result r;
        try {
            r = run(weights, visual, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy"), "--causal", "false");
        } finally {
            Logger.getLogger("").removeHandler(h);
        }
        assertEquals(0, r.exitCode, r.toString());
        List<String> lines = r.err.lines().filter(l -> l.contains("extra.bias")).toList();
        assertEquals(1, lines.size(), r.err);
        assertTrue(lines.get(0).startsWith("mmca run: warning: " + weights + ": ignoring tensor 'extra.bias'"),
                lines.get(0));
        assertTrue(logged.stream().noneMatch(x -> String.valueOf(x.getMessage()).contains("extra.bias")),
                "the warning was also logged");
    }

    @Test
    void optionValuesAreCheckedWithTheOptionsName() {
        CommandTestSupport.Result r = run(weights, visual, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy"),
                "--heads", "0");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --heads: expected a positive integer, got 0\n"
                + "Run 'mmca run --help' for the options."), r.err);
        r = run(weights, visual, text, tmp.resolve("ov.npy"), tmp.resolve("ot.npy"), "--composition", "diagonal");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: --composition: expected cross, seed or interleaved, got 'diagonal'"), r.err);
        r = CommandTestSupport.run("run", "--visual", visual.toString());
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca run: error: Missing required options:"), r.err);
    }

    // ---- 7: sizes past the heap, in a JVM with a small heap ----

    @Test
    void anNpyDeclaringGigabytesFailsWithTheSizeAndTheLimitInASmallHeap() throws Exception {
        Path big = tmp.resolve("big.npy");
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 33554431, 64), }";
        StringBuilder header = new StringBuilder(dict);
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length(),
                (byte) (header.length() >> 8)});
            f.write(header.toString().getBytes(StandardCharsets.US_ASCII));
            f.setLength(10 + header.length() + 4L * 33554431 * 64); // sparse: 8 GiB declared, nothing written
        }
        CommandTestSupport.Result r = ForkedMmca.run(ForkedMmca.testClassPath(), List.of("-Xmx256m"), "run",
                "--backend", "java", "--weights", weights.toString(), "--visual", big.toString(), "--text",
                text.toString(), "--out-visual", tmp.resolve("ov.npy").toString(), "--out-text",
                tmp.resolve("ot.npy").toString());
        assertError(r, "mmca run: error: --visual: " + big + ": data <f4 [1, 33554431, 64] needs 8.0 GiB (8589934336"
                + " bytes) of Java heap, but only about", "maximum (-Xmx) is free", "MMCA_JAVA_OPTS");
        assertFalse(r.err.contains("OutOfMemoryError"), r.err);
    }

    // ---- errors of the JVM are reported in the command's format too ----

    @CommandLine.Command(name = "mmca", subcommands = {Exhausting.class})
    static final class Root implements Runnable {
        @Override
        public void run() {
        }
    }

    @CommandLine.Command(name = "exhaust")
    static final class Exhausting implements java.util.concurrent.Callable<Integer> {
        @CommandLine.Option(names = "--what")
        String what;

        @Override
        public Integer call() {
            if ("link".equals(what)) {
                throw new NoClassDefFoundError("org/bytedeco/javacpp/Pointer");
            }
            throw new OutOfMemoryError("Java heap space");
        }
    }

    @Test
    void anOutOfMemoryErrorOrAMissingClassIsOneLineInTheCommandsFormat() {
        java.io.StringWriter err = new java.io.StringWriter();
        CommandLine cl = new CommandLine(new Root());
        cl.setErr(new java.io.PrintWriter(err, true));
        cl.getSubcommands().get("exhaust").setErr(new java.io.PrintWriter(err, true));
        assumeTrue(!Boolean.getBoolean("mmca.stacktrace"), "stack traces were asked for");
        assertEquals(1, Main.execute(cl, "exhaust"));
        String line = err.toString();
        assertTrue(line.startsWith("mmca exhaust: error: out of memory (Java heap space; the heap's maximum is "),
                line);
        assertTrue(line.contains("-Xmx") && line.lines().count() == 1, line);
        err.getBuffer().setLength(0);
        assertEquals(1, Main.execute(cl, "exhaust", "--what", "link"));
        assertTrue(err.toString().startsWith("mmca exhaust: error: a class is missing or incompatible"
                + " (NoClassDefFoundError: org/bytedeco/javacpp/Pointer)"), err.toString());
    }
}
