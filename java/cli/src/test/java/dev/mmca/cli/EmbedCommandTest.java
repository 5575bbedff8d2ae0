package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedCommandTest {
    @TempDir
    Path tmp;

    @Test
    void sampleThenEmbedThenRerunSkipsFinishedShardsWithIdenticalOutput() throws IOException {
        Path sample = tmp.resolve("sample");
        CommandTestSupport.Result made = CommandTestSupport.run("make-sample", "--out", sample.toString(),
                "--records", "24", "--shards", "3");
        assertEquals(0, made.exitCode, made.toString());
        Path weights = sample.resolve("weights.safetensors");
        assertTrue(Files.exists(weights), made.toString());
        Path input = sample.resolve("input");
        Path output = tmp.resolve("out");
        CommandTestSupport.Result first = CommandTestSupport.run("embed", "--weights", weights.toString(),
                "--input", input.toString(), "--output", output.toString(), "--backend", "java", "--quiet");
        assertEquals(0, first.exitCode, first.toString());
        List<Path> shards = list(output);
        assertEquals(3, shards.size(), shards.toString());
        byte[] before = Files.readAllBytes(shards.get(0));
        assertTrue(Safetensors.read(shards.get(0)).tensors().containsKey("text_out"));

        Files.delete(shards.get(1));
        CommandTestSupport.Result second = CommandTestSupport.run("embed", "--weights", weights.toString(),
                "--input", input.toString(), "--output", output.toString(), "--backend", "java");
        assertEquals(0, second.exitCode, second.toString());
        assertTrue((second.out + second.err).contains("1 written, 2 skipped"), second.toString());
        assertArrayEquals(before, Files.readAllBytes(shards.get(0)));
        assertEquals(3, list(output).size());
    }

    @Test
    void corruptShardFailsWithItsNameAndKeepGoingFinishesTheRest() throws IOException {
        Path sample = tmp.resolve("sample");
        assertEquals(0, CommandTestSupport.run("make-sample", "--out", sample.toString(), "--records", "12",
                "--shards", "3").exitCode);
        Path input = sample.resolve("input");
        Path victim = list(input).get(1);
        byte[] bytes = Files.readAllBytes(victim);
        Files.write(victim, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        CommandTestSupport.Result r = CommandTestSupport.run("embed", "--weights",
                sample.resolve("weights.safetensors").toString(), "--input", input.toString(), "--output",
                tmp.resolve("out").toString(), "--backend", "java", "--keep-going", "--quiet");
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains(victim.getFileName().toString()), r.toString());
        assertEquals(2, list(tmp.resolve("out")).size());
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted()
                    .collect(Collectors.toList());
        }
    }
}
