package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelFilesTest {
    @TempDir
    Path dir;

    /** heads 8, kvHeads 2, dimHead 16, dim 32: to_q [128, 32], to_k [32, 32]. */
    private static final MmcaConfig GQA = MmcaConfig.builder().dim(32).heads(8).kvHeads(2).dimHead(16).build();

    private static void assertMessageContains(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    private static void assertSameWeights(MmcaWeights want, MmcaWeights got) {
        Map<String, FloatTensor> w = want.toStateDict();
        Map<String, FloatTensor> g = got.toStateDict();
        for (String name : MmcaWeights.parameterNames()) {
            assertArrayEquals(w.get(name).shape(), g.get(name).shape(), name);
            assertArrayEquals(w.get(name).toArray(), g.get(name).toArray(), name);
        }
    }

    /** Writes the model's tensors (plus extras) with the given metadata, bypassing ModelFiles.save. */
    private Path file(MmcaWeights weights, Map<String, String> metadata, Map<String, FloatTensor> extra) throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>(weights.toStateDict());
        tensors.putAll(extra);
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, tensors, metadata);
        return p;
    }

    @Test
    void saveThenLoadRestoresEveryConfigValueAndWeight() throws IOException {
        MmcaConfig config = GQA.toBuilder().qkNorm(true).composition(Composition.SEED).causal(true)
                .headMapping(HeadMapping.GROUPED).build();
        MmcaWeights weights = MmcaWeights.random(config, 11);
        Path p = dir.resolve("m.safetensors");
        ModelFiles.save(p, config, weights);
        LoadedModel m = ModelFiles.load(p, null);
        assertEquals(config, m.config());
        assertSameWeights(weights, m.weights());
        assertEquals(List.of(), m.warnings());
        Map<String, String> meta = Safetensors.read(p).metadata();
        assertEquals("8", meta.get("heads"));
        assertEquals("2", meta.get("kv_heads"));
        assertEquals("16", meta.get("dim_head"));
        assertEquals("true", meta.get("causal"));
        assertEquals("true", meta.get("qk_norm"));
        assertEquals("seed", meta.get("composition"));
        assertEquals("grouped", meta.get("head_mapping"));
    }

    @Test
    void saveRejectsWeightsThatDoNotMatchTheConfig() {
        MmcaWeights weights = MmcaWeights.random(GQA, 1);
        MmcaConfig other = GQA.toBuilder().kvHeads(4).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelFiles.save(dir.resolve("x.safetensors"), other, weights));
        assertMessageContains(e, "to_k.weight");
    }

    @Test
    void withoutMetadataTheShapesGiveDimDimHeadAndKvHeadsOnceHeadsIsKnown() throws IOException {
        Path p = file(MmcaWeights.random(GQA, 2), Map.of(), Map.of());
        LoadedModel m = ModelFiles.load(p, ConfigOverrides.builder().heads(8).build());
        assertEquals(GQA, m.config());
        assertEquals(16, m.config().dimHead(), "dim_head follows from the shapes, not the default 64");
        LoadedModel four = ModelFiles.load(p, ConfigOverrides.builder().heads(4).build());
        assertEquals(32, four.config().dimHead());
        assertEquals(1, four.config().kvHeads());
    }

    @Test
    void defaultsApplyWhenNeitherMetadataNorOverridesSayMore() throws IOException {
        Path p = file(MmcaWeights.random(GQA, 2), Map.of("heads", "8"), Map.of());
        MmcaConfig c = ModelFiles.load(p).config();
        assertEquals(Composition.CROSS, c.composition());
        assertTrue(c.causal());
        assertEquals(false, c.qkNorm());
        assertEquals(HeadMapping.MODULO, c.headMapping());
    }

    @Test
    void missingHeadsIsAnErrorSayingHowToGiveIt() throws IOException {
        Path p = file(MmcaWeights.random(GQA, 2), Map.of("kv_heads", "2"), Map.of());
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> ModelFiles.load(p, ConfigOverrides.none()));
        assertMessageContains(e, p.toString(), "heads", "__metadata__ key 'heads'", "--heads", "ConfigOverrides");
    }

    @Test
    void overridesWinOverMetadataAndTheReplacementIsReported() throws IOException {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("heads", "4");
        meta.put("causal", "True");
        meta.put("qk_norm", "0");
        meta.put("composition", "cross");
        meta.put("head_mapping", "modulo");
        Path p = file(MmcaWeights.random(GQA, 3), meta, Map.of());
        assertEquals(4, ModelFiles.load(p).config().heads(), "metadata alone");
        LoadedModel m = ModelFiles.load(p, ConfigOverrides.builder().heads(8).causal(false).qkNorm(true)
                .composition(Composition.SEED).headMapping(HeadMapping.GROUPED).build());
        assertEquals(GQA.toBuilder().causal(false).qkNorm(true).composition(Composition.SEED)
                .headMapping(HeadMapping.GROUPED).build(), m.config());
        assertTrue(m.warnings().stream().anyMatch(w -> w.contains("heads") && w.contains("8") && w.contains("4")),
                m.warnings().toString());
        assertTrue(m.warnings().stream().anyMatch(w -> w.contains("head_mapping") && w.contains("grouped")
                && w.contains("modulo")), m.warnings().toString());
    }

    @Test
    void metadataBooleansAcceptExactlyTheDocumentedSpellings() throws IOException {
        MmcaWeights weights = MmcaWeights.random(GQA, 4);
        for (String t : List.of("true", "True", "1")) {
            assertTrue(ModelFiles.load(file(weights, Map.of("heads", "8", "qk_norm", t), Map.of())).config().qkNorm(), t);
        }
        for (String f : List.of("false", "False", "0")) {
            assertEquals(false, ModelFiles.load(file(weights, Map.of("heads", "8", "causal", f), Map.of())).config().causal(), f);
        }
        for (String bad : List.of("yes", "TRUE", " true", "2", "")) {
            Path p = file(weights, Map.of("heads", "8", "causal", bad), Map.of());
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> ModelFiles.load(p));
            assertMessageContains(e, "__metadata__ 'causal'", "got '" + bad + "'");
        }
    }

    @Test
    void invalidMetadataValuesNameTheKeyAndValue() throws IOException {
        MmcaWeights weights = MmcaWeights.random(GQA, 5);
        String[][] cases = {{"heads", "eight"}, {"heads", "0"}, {"heads", "-8"}, {"heads", "+8"}, {"heads", "99999999999"},
            {"kv_heads", "2.0"}, {"dim_head", "1e1"}, {"composition", "both"}, {"composition", " cross"},
            {"head_mapping", "interleaved"}};
        for (String[] c : cases) {
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("heads", "8");
            meta.put(c[0], c[1]);
            Path p = file(weights, meta, Map.of());
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> ModelFiles.load(p), c[0] + "=" + c[1]);
            assertMessageContains(e, "'" + c[0] + "'", "got '" + c[1] + "'");
        }
    }

    @Test
    void anOverrideReplacesAnInvalidMetadataValueWithAWarning() throws IOException {
        Path p = file(MmcaWeights.random(GQA, 5), Map.of("heads", "eight", "causal", "maybe"), Map.of());
        LoadedModel m = ModelFiles.load(p, ConfigOverrides.builder().heads(8).causal(false).build());
        assertEquals(GQA.toBuilder().causal(false).build(), m.config());
        assertTrue(m.warnings().stream().anyMatch(w -> w.contains("'heads'") && w.contains("'eight'") && w.contains("ignored")),
                m.warnings().toString());
        assertEquals(2, m.warnings().size(), m.warnings().toString());
    }

    @Test
    void metadataContradictingTheShapesIsAnErrorNamingBothValues() throws IOException {
        MmcaWeights weights = MmcaWeights.random(GQA, 6);
        MalformedFileException kv = assertThrows(MalformedFileException.class,
                () -> ModelFiles.load(file(weights, Map.of("heads", "8", "kv_heads", "4"), Map.of())));
        assertMessageContains(kv, "kv_heads: metadata says 4 but visual_self_attn.to_k.weight [32, 32] with dim_head 16 implies 2");
        MalformedFileException dh = assertThrows(MalformedFileException.class,
                () -> ModelFiles.load(file(weights, Map.of("heads", "8", "dim_head", "64"), Map.of())));
        assertMessageContains(dh, "dim_head: metadata says 64 but visual_self_attn.to_q.weight [128, 32] with heads 8 implies 16");
        MalformedFileException h = assertThrows(MalformedFileException.class,
                () -> ModelFiles.load(file(weights, Map.of("heads", "5"), Map.of())));
        assertMessageContains(h, "heads: metadata says 5 but visual_self_attn.to_q.weight [128, 32] has 128 rows");
        // Consistent statements are accepted.
        assertEquals(GQA, ModelFiles.load(file(weights, Map.of("heads", "8", "kv_heads", "2", "dim_head", "16"), Map.of())).config());
    }

    @Test
    void overridesContradictingTheShapesAreArgumentErrors() throws IOException {
        Path p = file(MmcaWeights.random(GQA, 7), Map.of("heads", "8"), Map.of());
        IllegalArgumentException kv = assertThrows(IllegalArgumentException.class,
                () -> ModelFiles.load(p, ConfigOverrides.builder().kvHeads(8).build()));
        assertMessageContains(kv, "kv_heads: the override says 8 but", "implies 2");
        IllegalArgumentException dh = assertThrows(IllegalArgumentException.class,
                () -> ModelFiles.load(p, ConfigOverrides.builder().dimHead(64).build()));
        assertMessageContains(dh, "dim_head: the override says 64 but", "implies 16");
        IllegalArgumentException h = assertThrows(IllegalArgumentException.class,
                () -> ModelFiles.load(p, ConfigOverrides.builder().heads(3).build()));
        assertMessageContains(h, "heads: the override says 3");
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> ConfigOverrides.builder().heads(0).build()),
                "heads: expected a positive integer, got 0");
    }

    @Test
    void shapesThatGiveAnInvalidConfigAreReported() throws IOException {
        // heads 8, dim_head 16 and to_k of 48 rows: 3 kv heads, which do not divide 8.
        MmcaConfig three = MmcaConfig.builder().dim(32).heads(3).kvHeads(3).dimHead(16).build();
        MmcaWeights w = MmcaWeights.random(GQA, 8);
        MmcaWeights kv3 = MmcaWeights.random(three, 8);
        Map<String, FloatTensor> tensors = new LinkedHashMap<>(w.toStateDict());
        tensors.put("visual_self_attn.to_k.weight", kv3.visualSelf().toK());
        Path p = dir.resolve("bad.safetensors");
        Safetensors.write(p, tensors, Map.of("heads", "8"));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> ModelFiles.load(p));
        assertMessageContains(e, "kvHeads", "divisor of heads (8), got 3");
    }

    @Test
    void missingTensorsAreAllNamed() throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>(MmcaWeights.random(GQA, 9).toStateDict());
        tensors.remove("cross_attn.to_v.weight");
        tensors.remove("textual_self_attn.to_q.weight");
        Path p = dir.resolve("partial.safetensors");
        Safetensors.write(p, tensors, Map.of("heads", "8"));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> ModelFiles.load(p));
        assertMessageContains(e, "missing [textual_self_attn.to_q.weight, cross_attn.to_v.weight]");
    }

    @Test
    void everyShapeIsValidatedNamingTheTensor() throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>(MmcaWeights.random(GQA, 10).toStateDict());
        tensors.put("cross_attn.to_out.weight", FloatTensor.zeros(32, 64));
        Path p = dir.resolve("shape.safetensors");
        Safetensors.write(p, tensors, Map.of("heads", "8"));
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> ModelFiles.load(p));
        assertMessageContains(e, "cross_attn.to_out.weight", "expected shape [32, 128], got [32, 64]");

        tensors.put("cross_attn.to_out.weight", FloatTensor.zeros(32, 128));
        tensors.put("visual_self_attn.to_q.weight", FloatTensor.zeros(128, 32, 1));
        Safetensors.write(p, tensors, Map.of("heads", "8"));
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.load(p)),
                "visual_self_attn.to_q.weight", "2-D", "[128, 32, 1]");
    }

    @Test
    void nonFiniteWeightsAreRejected() throws IOException {
        MmcaWeights w = MmcaWeights.random(GQA, 12);
        w.textualSelf().toV().set(5, Float.NaN);
        Path p = file(w, Map.of("heads", "8"), Map.of());
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.load(p)),
                "textual_self_attn.to_v.weight", "finite", "NaN");
    }

    @Test
    void unknownTensorsAreWarnedAboutAndLoggedButDoNotFail() throws IOException {
        Logger logger = Logger.getLogger(ModelFiles.class.getName());
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord record) {
                records.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(h);
        try {
            Path p = file(MmcaWeights.random(GQA, 13), Map.of("heads", "8"),
                    Map.of("visual_self_attn.rotary.inv_freq", FloatTensor.zeros(4)));
            LoadedModel m = ModelFiles.load(p);
            assertEquals(1, m.warnings().size());
            assertMessageContains(new Exception(m.warnings().get(0)), "visual_self_attn.rotary.inv_freq", "[4]", "ignoring");
            assertTrue(records.stream().anyMatch(r -> r.getLevel() == Level.WARNING
                    && r.getMessage().contains("visual_self_attn.rotary.inv_freq")), "logged at WARNING");
        } finally {
            logger.removeHandler(h);
        }
    }

    /** A half-precision model (as PyTorch saves with .half()) loads with exactly the stored values. */
    @Test
    void f16FilesAreConvertedOnLoad() throws IOException {
        MmcaConfig small = MmcaConfig.builder().dim(4).heads(2).kvHeads(1).dimHead(2).build();
        StringBuilder header = new StringBuilder("{\"__metadata__\":{\"heads\":\"2\"}");
        ByteBuffer data = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, float[]> expected = new LinkedHashMap<>();
        int offset = 0;
        int k = 0;
        MmcaWeights shapes = MmcaWeights.random(small, 1);
        for (Map.Entry<String, FloatTensor> e : shapes.toStateDict().entrySet()) {
            int[] s = e.getValue().shape();
            int n = s[0] * s[1];
            float[] values = new float[n];
            for (int i = 0; i < n; i++, k++) {
                int exponent = k % 7; // values m * 2^-exponent with 10-bit m: exact in binary16
                int mantissa = (k * 37) % 1024;
                values[i] = (1 + mantissa / 1024f) * (float) Math.pow(2, -exponent) * (k % 2 == 0 ? 1 : -1);
                data.putShort((short) ((k % 2 == 0 ? 0 : 0x8000) | ((15 - exponent) << 10) | mantissa));
            }
            expected.put(e.getKey(), values);
            header.append(",\"").append(e.getKey()).append("\":{\"dtype\":\"F16\",\"shape\":[").append(s[0]).append(',')
                    .append(s[1]).append("],\"data_offsets\":[").append(offset).append(',').append(offset + 2 * n).append("]}");
            offset += 2 * n;
        }
        header.append('}');
        byte[] bytes = java.util.Arrays.copyOf(data.array(), offset);
        Path p = RawFiles.write(dir, "half.safetensors", RawFiles.safetensors(header.toString(), bytes));
        LoadedModel m = ModelFiles.load(p);
        assertEquals(small, m.config());
        for (Map.Entry<String, FloatTensor> e : m.weights().toStateDict().entrySet()) {
            assertArrayEquals(expected.get(e.getKey()), e.getValue().toArray(), e.getKey());
        }
    }
}
