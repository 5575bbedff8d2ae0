package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SampleGeneratorTest {
    @TempDir
    Path dir;

    @Test
    void theSameSeedWritesTheSameFiles() throws Exception {
        List<Path> a = new SampleGenerator(10, 3, TestData.smallConfig(), 5, 4, 3).write(dir.resolve("a"));
        List<Path> b = new SampleGenerator(10, 3, TestData.smallConfig(), 5, 4, 3).write(dir.resolve("b"));
        assertEquals(3, a.size());
        for (int i = 0; i < a.size(); i++) {
            assertArrayEquals(Files.readAllBytes(a.get(i)), Files.readAllBytes(b.get(i)));
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("a/weights.safetensors")),
                Files.readAllBytes(dir.resolve("b/weights.safetensors")));
    }

    @Test
    void weightsCarryTheirConfigAndShardsHoldEveryRecord() throws Exception {
        List<Path> shards = new SampleGenerator(11, 4, TestData.smallConfig(), 6, 5, 1).write(dir);
        LoadedModel m = ModelFiles.load(dir.resolve(SampleGenerator.WEIGHTS_FILE));
        assertEquals(TestData.smallConfig(), m.config());
        int total = 0;
        for (Path s : shards) {
            InputShard in = ShardReader.read(s, 32);
            total += in.size();
            for (EmbedRecord r : in.records) {
                assertEquals(true, r.visualLength() >= 1 && r.visualLength() <= 6);
                assertEquals(true, r.textLength() >= 1 && r.textLength() <= 5);
            }
            assertEquals(in.size(), ShardHeader.records(s));
        }
        assertEquals(11, total);
    }

    @Test
    void moreShardsThanRecordsIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SampleGenerator(2, 3, TestData.smallConfig(), 4, 4, 1));
        assertEquals(true, e.getMessage().startsWith("shards:"), e.getMessage());
    }
}
