package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Safetensors;
import dev.mmca.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbedPipelineTest {
    @TempDir
    Path dir;

    private Path weights() {
        return dir.resolve(SampleGenerator.WEIGHTS_FILE);
    }

    private Path input() {
        return dir.resolve(SampleGenerator.INPUT_DIR);
    }

    private List<Path> sample(int records, int shards) throws IOException {
        return new SampleGenerator(records, shards, TestData.smallConfig(), 9, 7, 11).write(dir);
    }

    private EmbedOptions.Builder options(Path out) {
        return EmbedOptions.builder(weights(), input(), out).batchTokens(64).window(8);
    }

    private static byte[] bytes(Path p) throws IOException {
        return Files.readAllBytes(p);
    }

    @Test
    void outputsEqualRunningEachRecordAloneAndPaddingIsZero() throws Exception {
        List<Path> shards = sample(30, 3);
        Path out = dir.resolve("out");
        EmbedReport report = EmbedPipeline.run(options(out).build(), null);
        assertTrue(report.succeeded(), report.failures().toString());
        assertEquals(3, report.written());
        assertEquals(30, report.records());

        MmcaConfig config = ModelFiles.load(weights()).config();
        try (SimpleMmca model = SimpleMmca.create(config, ModelFiles.load(weights()).weights())) {
            int dim = config.dim();
            for (Path shard : shards) {
                InputShard in = ShardReader.read(shard, dim);
                SafetensorsFile f = Safetensors.read(out.resolve(shard.getFileName()));
                float[] v = f.tensors().get(ShardFormat.VISUAL_OUT).toArray();
                float[] t = f.tensors().get(ShardFormat.TEXT_OUT).toArray();
                assertArrayEquals(new int[] {in.size(), in.visualTokens, dim},
                        f.tensors().get(ShardFormat.VISUAL_OUT).shape());
                assertArrayEquals(Safetensors.read(shard).tensors().get(ShardFormat.TEXT_MASK).toArray(),
                        f.tensors().get(ShardFormat.TEXT_MASK).toArray());
                for (int r = 0; r < in.size(); r++) {
                    EmbedRecord rec = in.records.get(r);
                    float[][] alone = TestData.alone(model, rec);
                    int vo = r * in.visualTokens * dim;
                    int to = r * in.textTokens * dim;
                    String what = shard.getFileName() + " record " + r;
                    TestData.assertClose(alone[0], v, vo, what + " visual");
                    TestData.assertClose(alone[1], t, to, what + " text");
                    TestData.assertZero(v, vo + rec.visualLength() * dim, vo + in.visualTokens * dim, what + " visual padding");
                    TestData.assertZero(t, to + rec.textLength() * dim, to + in.textTokens * dim, what + " text padding");
                }
            }
        }
    }

    @Test
    void aRerunSkipsFinishedShardsAndRedoesAMissingOneIdentically() throws Exception {
        List<Path> shards = sample(24, 4);
        Path out = dir.resolve("out");
        assertTrue(EmbedPipeline.run(options(out).build(), null).succeeded());
        List<byte[]> first = new ArrayList<>();
        for (Path s : shards) {
            first.add(bytes(out.resolve(s.getFileName())));
        }

        EmbedReport again = EmbedPipeline.run(options(out).build(), null);
        assertEquals(4, again.skipped());
        assertEquals(0, again.written());
        assertEquals(0, again.records());

        Path lost = out.resolve(shards.get(2).getFileName());
        Files.delete(lost);
        Path damaged = out.resolve(shards.get(0).getFileName());
        byte[] d = bytes(damaged);
        Files.write(damaged, java.util.Arrays.copyOf(d, d.length - 100));
        EmbedReport third = EmbedPipeline.run(options(out).build(), null);
        assertEquals(2, third.written());
        assertEquals(2, third.skipped());
        for (int i = 0; i < shards.size(); i++) {
            assertArrayEquals(first.get(i), bytes(out.resolve(shards.get(i).getFileName())), "shard " + i);
        }
    }

    @Test
    void otherWeightsMakeEveryShardBeRedone() throws Exception {
        sample(8, 2);
        Path out = dir.resolve("out");
        assertTrue(EmbedPipeline.run(options(out).build(), null).succeeded());
        MmcaConfig config = ModelFiles.load(weights()).config();
        ModelFiles.save(weights(), config, MmcaWeights.random(config, 999));
        EmbedReport again = EmbedPipeline.run(options(out).build(), null);
        assertEquals(2, again.written());
        assertEquals(0, again.skipped());
    }

    private Path corruptSecondShard(List<Path> shards) throws IOException {
        Path bad = shards.get(1);
        byte[] b = bytes(bad);
        Files.write(bad, java.util.Arrays.copyOf(b, b.length / 2));
        return bad;
    }

    @Test
    void aCorruptShardFailsAloneWithKeepGoing() throws Exception {
        List<Path> shards = sample(20, 4);
        Path bad = corruptSecondShard(shards);
        Path out = dir.resolve("out");
        List<ShardFailure> seen = new ArrayList<>();
        EmbedReport report = EmbedPipeline.run(options(out).keepGoing(true).build(), new EmbedProgress() {
            @Override
            public void failed(ShardFailure failure) {
                seen.add(failure);
            }
        });
        assertFalse(report.succeeded());
        assertEquals(1, report.failures().size());
        ShardFailure f = report.failures().get(0);
        assertEquals(bad.getFileName().toString(), f.shard());
        assertTrue(f.message().contains(bad.getFileName().toString()), f.message());
        assertEquals(1, seen.size());
        assertEquals(3, report.written());
        assertFalse(Files.exists(out.resolve(bad.getFileName())));
        for (Path s : shards) {
            if (!s.equals(bad)) {
                assertTrue(Files.exists(out.resolve(s.getFileName())), s.toString());
            }
        }
    }

    @Test
    void withoutKeepGoingTheRunStopsAtTheFirstBadShard() throws Exception {
        List<Path> shards = sample(20, 4);
        Path bad = corruptSecondShard(shards);
        Path out = dir.resolve("out");
        EmbedReport report = EmbedPipeline.run(options(out).build(), null);
        assertFalse(report.succeeded());
        assertEquals(bad.getFileName().toString(), report.failures().get(0).shard());
        assertTrue(report.written() < 4, "written " + report.written());
        assertFalse(Files.exists(out.resolve(shards.get(3).getFileName())), "the run went on after the failure");
    }

    @Test
    void aShardOfTheWrongDimFailsNamingTheTensor() throws Exception {
        List<Path> shards = sample(6, 2);
        java.util.Map<String, FloatTensor> m = new java.util.LinkedHashMap<>();
        m.put(ShardFormat.VISUAL, FloatTensor.zeros(2, 3, 31));
        m.put(ShardFormat.TEXT, FloatTensor.zeros(2, 3, 31));
        Safetensors.write(input().resolve("shard-wrong.safetensors"), m, null);
        EmbedReport report = EmbedPipeline.run(options(dir.resolve("out")).keepGoing(true).build(), null);
        assertEquals(shards.size(), report.written());
        assertEquals(1, report.failures().size());
        String msg = report.failures().get(0).message();
        assertTrue(msg.contains("shard-wrong.safetensors") && msg.contains("'visual'") && msg.contains("32"), msg);
    }

    @Test
    void manyForwardThreadsAndATinyQueueGiveTheSameFiles() throws Exception {
        List<Path> shards = sample(40, 3);
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertTrue(EmbedPipeline.run(options(a).build(), null).succeeded());
        assertTrue(EmbedPipeline.run(options(b).computeThreads(3).queueBatches(1).build(), null).succeeded());
        for (Path s : shards) {
            assertArrayEquals(bytes(a.resolve(s.getFileName())), bytes(b.resolve(s.getFileName())), s.toString());
        }
    }

    @Test
    void noTemporaryFilesAreLeftInTheOutputEvenFromAnInterruptedRun() throws Exception {
        sample(10, 2);
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.write(out.resolve(".shard-00001.safetensors.5f3a9c.tmp"), new byte[100]);
        EmbedPipeline.run(options(out).build(), null);
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of("shard-00000.safetensors", "shard-00001.safetensors"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }

    @Test
    void progressSeesEveryRecordAndTheStartTotal() throws Exception {
        sample(17, 3);
        long[] seen = new long[3];
        EmbedProgress p = new EmbedProgress() {
            @Override
            public void start(int shards, long records) {
                seen[0] = records;
            }

            @Override
            public void advance(int records, long tokens) {
                seen[1] += records;
                seen[2] += tokens;
            }
        };
        EmbedReport report = EmbedPipeline.run(options(dir.resolve("out")).build(), p);
        assertEquals(17, seen[0]);
        assertEquals(17, seen[1]);
        assertEquals(report.tokens(), seen[2]);
        assertTrue(report.paddedTokens() >= report.tokens());
    }

    @Test
    void npyGroupsGiveTheSameOutputsAsSafetensorsShards() throws Exception {
        List<Path> shards = sample(12, 2);
        Path npyInput = Files.createDirectories(dir.resolve("npy-input"));
        for (Path s : shards) {
            String base = s.getFileName().toString().replace(ShardFormat.EXTENSION, "");
            java.util.Map<String, FloatTensor> t = Safetensors.read(s).tensors();
            dev.mmca.io.Npy.writeFloats(npyInput.resolve(base + ".visual.npy"), t.get(ShardFormat.VISUAL));
            dev.mmca.io.Npy.writeFloats(npyInput.resolve(base + ".text.npy"), t.get(ShardFormat.TEXT));
            for (String mask : new String[] {ShardFormat.VISUAL_MASK, ShardFormat.TEXT_MASK}) {
                FloatTensor m = t.get(mask);
                boolean[] b = new boolean[m.size()];
                for (int i = 0; i < b.length; i++) {
                    b[i] = m.get(i) != 0;
                }
                dev.mmca.io.Npy.writeMask(npyInput.resolve(base + "." + mask + ".npy"),
                        dev.mmca.Mask.of(b, m.dim(0), m.dim(1)));
            }
        }
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        assertTrue(EmbedPipeline.run(options(a).build(), null).succeeded());
        EmbedReport npy = EmbedPipeline.run(EmbedOptions.builder(weights(), npyInput, b).batchTokens(64).window(8)
                .build(), null);
        assertTrue(npy.succeeded(), npy.failures().toString());
        assertEquals(2, npy.written());
        for (Path s : shards) {
            java.util.Map<String, FloatTensor> x = Safetensors.read(a.resolve(s.getFileName())).tensors();
            java.util.Map<String, FloatTensor> y = Safetensors.read(b.resolve(s.getFileName())).tensors();
            assertEquals(x.keySet(), y.keySet());
            for (String k : x.keySet()) {
                assertArrayEquals(x.get(k).toArray(), y.get(k).toArray(), s.getFileName() + " " + k);
            }
        }
        assertEquals(2, EmbedPipeline.run(EmbedOptions.builder(weights(), npyInput, b).build(), null).skipped());
        Files.delete(npyInput.resolve("shard-00001.text.npy"));
        EmbedReport missing = EmbedPipeline.run(EmbedOptions.builder(weights(), npyInput, dir.resolve("c"))
                .keepGoing(true).build(), null);
        assertEquals(1, missing.failures().size());
        assertTrue(missing.failures().get(0).message().contains("shard-00001.text.npy"),
                missing.failures().get(0).message());
    }

    @Test
    void inputAndOutputMustDiffer() throws Exception {
        sample(4, 1);
        IOException e = assertThrows(IOException.class, () -> EmbedPipeline.run(options(input()).build(), null));
        assertTrue(e.getMessage().startsWith("output:"), e.getMessage());
    }

    @Test
    void anEmptyInputDirectoryIsAnError() throws Exception {
        sample(4, 1);
        Path empty = Files.createDirectories(dir.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> EmbedPipeline.run(
                EmbedOptions.builder(weights(), empty, dir.resolve("out")).build(), null));
        assertTrue(e.getMessage().contains("found none"), e.getMessage());
    }
}
