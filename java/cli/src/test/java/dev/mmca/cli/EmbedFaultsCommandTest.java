package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.embed.SampleGenerator;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mmca embed}: stale outputs, bounded options and messages that name the option and the path. */
class EmbedFaultsCommandTest {
    @TempDir
    Path tmp;
    Path weights;
    Path input;

    @BeforeEach
    void sample() throws IOException {
        MmcaConfig c = MmcaConfig.builder().dim(32).heads(4).kvHeads(2).dimHead(8).build();
        new SampleGenerator(8, 2, c, 6, 5, 3).write(tmp);
        weights = tmp.resolve(SampleGenerator.WEIGHTS_FILE);
        input = tmp.resolve(SampleGenerator.INPUT_DIR);
    }

    private CommandTestSupport.Result embed(String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("embed", "--backend", "java", "--weights",
                weights.toString(), "--input", input.toString(), "--output", tmp.resolve("out").toString()));
        args.addAll(List.of(extra));
        return CommandTestSupport.run(args.toArray(new String[0]));
    }

    @Test
    void aRunWithOtherHeadsRedoesTheShardsOfTheFirst() throws IOException {
        // weights without the head metadata, so both --heads 4 and --heads 2 fit their shapes
        Map<String, FloatTensor> state = ModelFiles.load(weights).weights().toStateDict();
        Safetensors.write(weights, state, Map.of());
        CommandTestSupport.Result four = embed("--heads", "4");
        assertEquals(0, four.exitCode, four.toString());
        assertTrue(four.out.contains("2 written, 0 skipped"), four.out);
        assertTrue(embed("--heads", "4").out.contains("0 written, 2 skipped"));
        CommandTestSupport.Result two = embed("--heads", "2");
        assertEquals(0, two.exitCode, two.toString());
        assertTrue(two.out.contains("2 written, 0 skipped"), "the --heads 4 outputs were kept: " + two.out);
    }

    @Test
    void tooManyThreadsAreAUsageErrorBeforeAnyWork() {
        CommandTestSupport.Result r = embed("--threads", "100000");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca embed: error: --threads: expected 1 to 256 (forward calls at once;"
                + " backends already use every core), got 100000"), r.err);
        assertTrue(!Files.exists(tmp.resolve("out")), "nothing was created");
        r = embed("--batch-tokens", "0");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca embed: error: --batch-tokens: expected 1 or more, got 0"), r.err);
    }

    @Test
    void anOutputThatIsAFileNamesTheOptionAndWhatIsThere() throws IOException {
        Path file = Files.writeString(tmp.resolve("out"), "x");
        CommandTestSupport.Result r = embed();
        assertEquals(1, r.exitCode, r.toString());
        assertEquals("mmca embed: error: --output: expected a directory (created when missing), got a regular file at "
                + file, r.err.trim());
    }

    @Test
    void missingWeightsAndAnInputThatIsAFileNameTheOption() throws IOException {
        Files.delete(weights);
        CommandTestSupport.Result r = embed();
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca embed: error: --weights: " + weights + ": expected a file to read, found"
                + " no such file"), r.err);
        Path file = Files.writeString(tmp.resolve("in.txt"), "x");
        r = CommandTestSupport.run("embed", "--weights", weights.toString(), "--input", file.toString(), "--output",
                tmp.resolve("o").toString());
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca embed: error: --input: expected a directory of .safetensors shards"), r.err);
        assertTrue(r.err.contains("got a regular file at " + file), r.err);
    }

    @Test
    void theWeightsWarningsArePrintedOnceInTheCommandsFormat() throws IOException {
        Map<String, FloatTensor> state = new LinkedHashMap<>(ModelFiles.load(weights).weights().toStateDict());
        state.put("rotary.inv_freq", FloatTensor.zeros(4));
        Safetensors.write(weights, state, Map.of("heads", "4"));
        CommandTestSupport.Result r = embed();
        assertEquals(0, r.exitCode, r.toString());
        List<String> lines = r.err.lines().filter(l -> l.contains("rotary.inv_freq")).toList();
        assertEquals(1, lines.size(), r.err);
        assertTrue(lines.get(0).startsWith("mmca embed: warning: " + weights + ": ignoring tensor 'rotary.inv_freq'"),
                lines.get(0));
        assertEquals(0, embed("--quiet").err.lines().filter(l -> l.contains("rotary")).count(), "--quiet");
    }

    @Test
    void makeSampleSizesPastAJavaArrayAreAUsageErrorNamingTheOption() {
        CommandTestSupport.Result r = CommandTestSupport.run("make-sample", "--out", tmp.resolve("s").toString(),
                "--records", "2000000000", "--shards", "1");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca make-sample: error: --records: expected at most 2^31-9 values per shard"
                + " tensor (records per shard x tokens x dim), got 2000000000 x 16 x 64 = 2048000000000"), r.err);
        r = CommandTestSupport.run("make-sample", "--out", tmp.resolve("s").toString(), "--kv-heads", "3");
        assertEquals(2, r.exitCode, r.toString());
        assertTrue(r.err.startsWith("mmca make-sample: error: --kv-heads: expected a divisor of heads (4), got 3"),
                r.err);
        assertTrue(!Files.exists(tmp.resolve("s")), "nothing was written");
    }
}
