package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.io.Safetensors;
import dev.mmca.testing.SpecialFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stale outputs, special files, collisions, unbounded options and messages of the embed pipeline. */
class EmbedFaultsTest {
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

    private static void assertMessage(String message, String... parts) {
        for (String p : parts) {
            assertTrue(message.contains(p), "expected '" + p + "' in: " + message);
        }
    }

    /** Overwrites 4 bytes at the start of the shard's data area (record 0's first visual value): same size. */
    private static void changeFirstValueInPlace(Path shard, float value) throws IOException {
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long dataStart = 8 + len.getLong(0);
            ch.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value), dataStart);
        }
    }

    // ---- 3: a finished shard records what made it ----

    @Test
    void aShardWhoseValuesChangedInPlaceIsRedoneAndTheOthersAreKept() throws Exception {
        List<Path> shards = sample(12, 3);
        Path out = dir.resolve("out");
        assertTrue(EmbedPipeline.run(options(out).build(), null).succeeded());
        byte[] before = Files.readAllBytes(out.resolve(shards.get(1).getFileName()));
        long size = Files.size(shards.get(1));
        changeFirstValueInPlace(shards.get(1), 42.5f);
        assertEquals(size, Files.size(shards.get(1)), "same size");

        EmbedReport again = EmbedPipeline.run(options(out).build(), null);
        assertEquals(1, again.written(), again.toString());
        assertEquals(2, again.skipped(), again.toString());
        byte[] after = Files.readAllBytes(out.resolve(shards.get(1).getFileName()));
        assertFalse(java.util.Arrays.equals(before, after), "the output was recomputed");
        Path fresh = dir.resolve("fresh");
        assertTrue(EmbedPipeline.run(options(fresh).build(), null).succeeded());
        assertArrayEquals(Files.readAllBytes(fresh.resolve(shards.get(1).getFileName())), after,
                "the redone output is that of the changed input");
        assertEquals(3, EmbedPipeline.run(options(out).build(), null).skipped(), "and is then finished");
    }

    @Test
    void aChangedNpyGroupFileIsRedone() throws Exception {
        List<Path> shards = sample(6, 2);
        Path npyInput = Files.createDirectories(dir.resolve("npy"));
        for (Path s : shards) {
            String base = s.getFileName().toString().replace(ShardFormat.EXTENSION, "");
            Map<String, FloatTensor> t = Safetensors.read(s).tensors();
            Npy.writeFloats(npyInput.resolve(base + ".visual.npy"), t.get(ShardFormat.VISUAL));
            Npy.writeFloats(npyInput.resolve(base + ".text.npy"), t.get(ShardFormat.TEXT));
        }
        Path out = dir.resolve("out");
        EmbedOptions o = EmbedOptions.builder(weights(), npyInput, out).build();
        assertEquals(2, EmbedPipeline.run(o, null).written());
        assertEquals(2, EmbedPipeline.run(o, null).skipped());
        Path text = npyInput.resolve("shard-00001.text.npy");
        FloatTensor t = Npy.read(text).toFloatTensor();
        t.set(0, t.get(0) + 1);
        Npy.writeFloats(text, t);
        EmbedReport r = EmbedPipeline.run(o, null);
        assertEquals(1, r.written(), r.toString());
        assertEquals(1, r.skipped(), r.toString());
    }

    /** Weights without heads, kv_heads and dim_head metadata, so that --heads 4 and --heads 2 both fit. */
    private void weightsWithoutHeads() throws IOException {
        MmcaConfig c = TestData.smallConfig();
        Safetensors.write(weights(), MmcaWeights.random(c, 5).toStateDict(), Map.of());
    }

    @Test
    void anotherResolvedConfigRedoesEveryShard() throws Exception {
        sample(8, 2);
        weightsWithoutHeads();
        Path out = dir.resolve("out");
        EmbedOptions four = options(out).overrides(ConfigOverrides.builder().heads(4).build()).build();
        EmbedOptions two = options(out).overrides(ConfigOverrides.builder().heads(2).build()).build();
        assertEquals(2, EmbedPipeline.run(four, null).written());
        assertEquals(2, EmbedPipeline.run(four, null).skipped());
        EmbedReport r = EmbedPipeline.run(two, null);
        assertEquals(2, r.written(), "--heads 2 after --heads 4: " + r);
        assertEquals(0, r.skipped());
        String config = Safetensors.readHeader(out.resolve("shard-00000.safetensors")).metadata()
                .get(ShardFormat.META_CONFIG);
        assertMessage(config, "heads=2 ", "kv_heads=1", "dim_head=16");
        EmbedOptions causal = options(out).overrides(ConfigOverrides.builder().heads(2).causal(false).build()).build();
        assertEquals(2, EmbedPipeline.run(causal, null).written(), "another causal flag");
    }

    @Test
    void theRecordedConfigNamesEveryFieldOfTheConfig() {
        String recorded = Provenance.config(TestData.smallConfig());
        for (Field f : MmcaConfig.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            String snake = f.getName().replaceAll("([A-Z])", "_$1").toLowerCase(java.util.Locale.ROOT);
            assertTrue(recorded.contains(snake + "="), "MmcaConfig." + f.getName() + " is missing from: " + recorded);
        }
    }

    @Test
    void otherWeightValuesRedoEveryShardButTheSameValuesDoNot() throws Exception {
        sample(6, 2);
        Path out = dir.resolve("out");
        assertEquals(2, EmbedPipeline.run(options(out).build(), null).written());
        MmcaConfig c = ModelFiles.load(weights()).config();
        ModelFiles.save(weights(), c, ModelFiles.load(weights()).weights()); // rewritten, same values
        assertEquals(2, EmbedPipeline.run(options(out).build(), null).skipped());
        MmcaWeights w = ModelFiles.load(weights()).weights();
        w.cross().toOut().set(3, w.cross().toOut().get(3) + 0.25f);
        ModelFiles.save(weights(), c, w);
        assertEquals(2, EmbedPipeline.run(options(out).build(), null).written(), "one weight changed");
    }

    @Test
    void backendBatchSizeWindowAndThreadsDoNotMakeAShardStale() throws Exception {
        List<Path> shards = sample(10, 2);
        Path out = dir.resolve("out");
        assertEquals(2, EmbedPipeline.run(options(out).build(), null).written());
        EmbedReport r = EmbedPipeline.run(options(out).batchTokens(17).window(3).computeThreads(2).build(), null);
        assertEquals(2, r.skipped(), r.toString());
        // What a run on another backend records: the same provenance but another backend name.
        Path o = out.resolve(shards.get(0).getFileName());
        byte[] b = Files.readAllBytes(o);
        String text = new String(b, StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\"" + ShardFormat.META_BACKEND + "\":\"java\"");
        assertTrue(at > 0, "the output records its backend");
        int value = at + ShardFormat.META_BACKEND.length() + 4;
        System.arraycopy("cuda".getBytes(StandardCharsets.US_ASCII), 0, b, value, 4);
        Files.write(o, b);
        assertEquals("cuda", Safetensors.readHeader(o).metadata().get(ShardFormat.META_BACKEND));
        assertEquals(2, EmbedPipeline.run(options(out).build(), null).skipped());
    }

    // ---- 4, 5: special files ----

    @Test
    void aFifoAmongTheShardsFailsAloneWithTheReasonInsteadOfHanging() throws Exception {
        sample(6, 2);
        Path fifo = SpecialFiles.fifo(input().resolve("shard-99999.safetensors"));
        EmbedReport r = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> EmbedPipeline.run(options(dir.resolve("out")).keepGoing(true).build(), null));
        assertEquals(2, r.written(), r.toString());
        assertEquals(1, r.failures().size(), r.toString());
        assertEquals(fifo.getFileName().toString(), r.failures().get(0).shard());
        assertMessage(r.failures().get(0).message(), fifo.toString(), "expected a regular file", "FIFO");
    }

    @Test
    void weightsThatAreAFifoAreRefusedBeforeAnyWork() throws Exception {
        sample(2, 1);
        Files.delete(weights());
        SpecialFiles.fifo(weights());
        IOException e = assertTimeoutPreemptively(Duration.ofSeconds(30), () -> assertThrows(IOException.class,
                () -> EmbedPipeline.run(options(dir.resolve("out")).build(), null)));
        assertMessage(e.getMessage(), weights().toString(), "FIFO");
        assertFalse(Files.exists(dir.resolve("out")), "nothing was created");
    }

    @Test
    void anOutputShardPathThatIsASymbolicLinkIsRefusedNotReplaced() throws Exception {
        List<Path> shards = sample(4, 2);
        Path out = Files.createDirectories(dir.resolve("out"));
        Path elsewhere = Files.writeString(dir.resolve("elsewhere.txt"), "keep");
        Path link = Files.createSymbolicLink(out.resolve(shards.get(0).getFileName()), elsewhere);
        EmbedReport r = EmbedPipeline.run(options(out).keepGoing(true).build(), null);
        assertEquals(1, r.written(), r.toString());
        assertEquals(1, r.failures().size());
        assertMessage(r.failures().get(0).message(), link.toString(), "symbolic link", "refused");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("keep", Files.readString(elsewhere));
    }

    // ---- 6: collisions ----

    @Test
    void anOutputThatWouldReplaceTheWeightsIsRefusedBeforeAnyWork() throws Exception {
        List<Path> shards = sample(4, 2);
        Path out = Files.createDirectories(dir.resolve("out"));
        Path w = out.resolve(shards.get(1).getFileName());
        Files.move(weights(), w);
        byte[] before = Files.readAllBytes(w);
        IOException e = assertThrows(IOException.class, () -> EmbedPipeline.run(
                EmbedOptions.builder(w, input(), out).build(), null));
        assertMessage(e.getMessage(), "output:", w.toString(), "weights");
        assertArrayEquals(before, Files.readAllBytes(w));
        try (java.util.stream.Stream<Path> listing = Files.list(out)) {
            assertEquals(1, listing.count(), "no output was written");
        }
    }

    // ---- 7: bounded options and sizes ----

    @Test
    void threadAndQueueCountsAreBounded() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> options(dir).computeThreads(100_000).build());
        assertMessage(e.getMessage(), "computeThreads: expected 1 to " + EmbedOptions.MAX_COMPUTE_THREADS, "100000");
        e = assertThrows(IllegalArgumentException.class, () -> options(dir).queueBatches(Integer.MAX_VALUE).build());
        assertMessage(e.getMessage(), "queueBatches: expected 1 to " + EmbedOptions.MAX_QUEUE_BATCHES);
        assertEquals(EmbedOptions.MAX_COMPUTE_THREADS,
                options(dir).computeThreads(EmbedOptions.MAX_COMPUTE_THREADS).build().computeThreads());
    }

    @Test
    void aShardDeclaringMoreThanTheHeapFailsAloneWithTheSizeAndTheLimit() throws Exception {
        sample(4, 2);
        int dim = TestData.smallConfig().dim();
        int records = (Integer.MAX_VALUE - 8) / (4 * dim); // [records, 4, dim] F32: just under 8 GiB per tensor
        long per = 4L * records * 4 * dim;
        assumeTrue(2 * per > Runtime.getRuntime().maxMemory(), "the heap holds 16 GiB");
        String header = "{\"visual\":{\"dtype\":\"F32\",\"shape\":[" + records + ",4," + dim + "],\"data_offsets\":[0,"
                + per + "]},\"text\":{\"dtype\":\"F32\",\"shape\":[" + records + ",4," + dim + "],\"data_offsets\":["
                + per + "," + 2 * per + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        Path big = input().resolve("shard-big.safetensors");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).array());
            f.write(h);
            f.setLength(8 + h.length + 2 * per);
        }
        EmbedReport r = EmbedPipeline.run(options(dir.resolve("out")).keepGoing(true).build(), null);
        assertEquals(2, r.written(), r.toString());
        assertEquals(1, r.failures().size(), r.toString());
        assertMessage(r.failures().get(0).message(), big.toString(), "tensor 'visual' F32 [" + records + ", 4, " + dim
                + "]", "of Java heap", "-Xmx");
    }

    // ---- 8: messages ----

    @Test
    void anOutputThatIsAFileIsNamedAsSuch() throws Exception {
        sample(2, 1);
        Path file = Files.writeString(dir.resolve("out.txt"), "x");
        IOException e = assertThrows(IOException.class, () -> EmbedPipeline.run(options(file).build(), null));
        assertEquals("output: expected a directory (created when missing), got a regular file at " + file,
                e.getMessage());
        Path below = file.resolve("sub");
        e = assertThrows(IOException.class, () -> EmbedPipeline.run(options(below).build(), null));
        assertEquals("output: expected a directory (created when missing), got a regular file at " + file
                + " (on the way to " + below + ")", e.getMessage());
    }

    @Test
    void theWeightsWarningsReachTheProgressOnceAndAreNotAlsoLogged() throws Exception {
        sample(2, 1);
        MmcaConfig c = ModelFiles.load(weights()).config();
        Map<String, FloatTensor> state = new LinkedHashMap<>(MmcaWeights.random(c, 1).toStateDict());
        state.put("extra.weight", FloatTensor.zeros(3));
        Safetensors.write(weights(), state, Map.of("heads", Integer.toString(c.heads())));
        List<LogRecord> logged = new ArrayList<>();
        Handler h = new Handler() {
            @Override public void publish(LogRecord record) { logged.add(record); }
            @Override public void flush() { }
            @Override public void close() { }
        };
        Logger root = Logger.getLogger("");
        root.addHandler(h);
        List<String> warnings = new ArrayList<>();
        try {
            EmbedPipeline.run(options(dir.resolve("out")).build(), new EmbedProgress() {
                @Override
                public void warning(String message) {
                    warnings.add(message);
                }
            });
        } finally {
            root.removeHandler(h);
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertMessage(warnings.get(0), weights().toString(), "extra.weight", "ignoring");
        assertTrue(logged.stream().noneMatch(r -> r.getMessage() != null && r.getMessage().contains("extra.weight")),
                "also logged");
    }
}
