package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.Modality;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interleaved models on disk (four tensors, composition interleaved) and modalities in .npy files. */
class InterleavedFilesTest {
    @TempDir
    Path dir;

    /** heads 4, kvHeads 2, dimHead 8, dim 12: to_q [32, 12], to_k [16, 12]. */
    private static final MmcaConfig CONFIG = MmcaConfig.builder().composition(Composition.INTERLEAVED).dim(12).heads(4)
            .kvHeads(2).dimHead(8).headMapping(HeadMapping.GROUPED).imageAttention(ImageAttention.BLOCK).build();

    private static void assertMessageContains(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    private Path file(MgqaWeights w, Map<String, String> metadata, Map<String, FloatTensor> extra) throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("to_q.weight", w.toQ());
        tensors.put("to_k.weight", w.toK());
        tensors.put("to_v.weight", w.toV());
        tensors.put("to_out.weight", w.toOut());
        tensors.putAll(extra);
        Path p = dir.resolve("interleaved.safetensors");
        Safetensors.write(p, tensors, metadata);
        return p;
    }

    @Test
    void saveThenReadRestoresTheConfigAndTheWeights() throws IOException {
        for (ImageAttention rule : ImageAttention.values()) {
            MmcaConfig c = CONFIG.toBuilder().imageAttention(rule).qkNorm(rule == ImageAttention.SELF).build();
            MgqaWeights w = MgqaWeights.random(c, 3);
            Path p = dir.resolve(rule.label() + ".safetensors");
            ModelFiles.saveInterleaved(p, c, w);
            LoadedInterleaved got = ModelFiles.readInterleaved(p, ConfigOverrides.none());
            assertEquals(c, got.config());
            assertEquals(List.of(), got.warnings());
            assertArrayEquals(w.toQ().toArray(), got.weights().toQ().toArray());
            assertArrayEquals(w.toOut().toArray(), got.weights().toOut().toArray());
            assertEquals("interleaved", Safetensors.readHeader(p).metadata().get("composition"));
            assertEquals(rule.label(), Safetensors.readHeader(p).metadata().get("image_attention"));
        }
    }

    @Test
    void theShapesAndDefaultsGiveTheRestOnceHeadsIsKnown() throws IOException {
        Path p = file(MgqaWeights.random(CONFIG, 4), Map.of("heads", "4"), Map.of("extra.weight", FloatTensor.zeros(2)));
        LoadedInterleaved got = ModelFiles.readInterleaved(p, null);
        MmcaConfig want = CONFIG.toBuilder().headMapping(HeadMapping.MODULO).imageAttention(ImageAttention.SELF).build();
        assertEquals(want, got.config(), "composition interleaved, causal, rule self, modulo by default");
        assertEquals(1, got.warnings().size(), got.warnings().toString());
        assertTrue(got.warnings().get(0).contains("ignoring tensor 'extra.weight'"), got.warnings().toString());
        LoadedInterleaved block = ModelFiles.readInterleaved(p, ConfigOverrides.builder()
                .imageAttention(ImageAttention.BLOCK).build());
        assertEquals(ImageAttention.BLOCK, block.config().imageAttention());
    }

    @Test
    void contradictionsAndBadValuesNameTheKey() throws IOException {
        MgqaWeights w = MgqaWeights.random(CONFIG, 5);
        Path cross = file(w, Map.of("heads", "4", "composition", "cross"), Map.of());
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.readInterleaved(cross, null)),
                "composition: metadata says cross", "expected interleaved");
        Path acausal = file(w, Map.of("heads", "4", "causal", "false"), Map.of());
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.readInterleaved(acausal,
                null)), "causal: metadata says false", "causal by definition");
        Path rule = file(w, Map.of("heads", "4", "image_attention", "both"), Map.of());
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.readInterleaved(rule, null)),
                "'image_attention'", "expected self or block", "got 'both'");
        Path heads = file(w, Map.of("heads", "3"), Map.of());
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.readInterleaved(heads, null)),
                "heads: metadata says 3", "to_q.weight [32, 12]");
        Path good = file(w, Map.of("heads", "4"), Map.of());
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> ModelFiles.readInterleaved(good,
                ConfigOverrides.builder().composition(Composition.SEED).build())), "composition: the override says seed");
        // a SimpleMMCA reader meets an interleaved file, and the other way round
        Path meta = file(w, Map.of("heads", "4", "composition", "interleaved"), Map.of());
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.read(meta, null)),
                "composition: metadata says interleaved", "ModelFiles.readInterleaved");
        MmcaConfig simple = MmcaConfig.builder().dim(12).heads(4).kvHeads(2).dimHead(8).build();
        Path three = dir.resolve("simple.safetensors");
        ModelFiles.save(three, simple, MmcaWeights.random(simple, 1));
        assertMessageContains(assertThrows(MalformedFileException.class, () -> ModelFiles.readInterleaved(three, null)),
                "expected the four tensors of an interleaved block, missing [to_q.weight, to_k.weight, to_v.weight,"
                        + " to_out.weight]");
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> ModelFiles.save(three, CONFIG,
                MmcaWeights.random(simple, 1))), "saveInterleaved");
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> ModelFiles.saveInterleaved(three,
                simple, w)), "expected composition INTERLEAVED");
    }

    private static byte[] littleEndian(int bytes, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            switch (bytes) {
                case 1: b.put((byte) v); break;
                case 2: b.putShort((short) v); break;
                case 4: b.putInt((int) v); break;
                default: b.putLong(v); break;
            }
        }
        return b.array();
    }

    private static String dict(String descr, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    }

    @Test
    void modalitiesReadFromByteAndIntegerFiles() throws IOException {
        long[] values = {1, 1, 2, 2, 0, 2, 1, 0};
        Modality want = Modality.parse("ttii", ".it.");
        String[][] dtypes = {{"|u1", "1"}, {"|i1", "1"}, {"<i2", "2"}, {"<u2", "2"}, {"<i4", "4"}, {"<u4", "4"},
            {"<i8", "8"}, {"<u8", "8"}};
        for (String[] d : dtypes) {
            Path p = RawFiles.write(dir, "m" + d[0].substring(1) + ".npy",
                    RawFiles.npy(1, dict(d[0], "(2, 4)"), littleEndian(Integer.parseInt(d[1]), values)));
            assertEquals(want, Npy.readIntegers(p).toModality(), d[0]);
        }
        Path u1 = RawFiles.write(dir, "u1.npy", RawFiles.npy(1, dict("|u1", "(2, 4)"), littleEndian(1, values)));
        assertEquals(want, Npy.read(u1).toModality(), "|u1 through the general reader");
        assertMessageContains(assertThrows(MalformedFileException.class, () -> Npy.read(RawFiles.write(dir, "g.npy",
                RawFiles.npy(1, dict("<i8", "(2, 4)"), littleEndian(8, values))))), "'<i8'");
    }

    @Test
    void badModalitiesAreNamedWithThePosition() throws IOException {
        Path three = RawFiles.write(dir, "three.npy", RawFiles.npy(1, dict("<i8", "(2, 3)"),
                littleEndian(8, 1, 2, 0, 1, 3, 1)));
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Npy.readIntegers(three).toModality()),
                "three.npy", "expected modality values 0 (padding), 1 (text) or 2 (image), got 3 at [1, 1]");
        Path negative = RawFiles.write(dir, "neg.npy", RawFiles.npy(1, dict("|i1", "(1, 2)"), littleEndian(1, 1, -1)));
        assertMessageContains(assertThrows(IllegalArgumentException.class,
                () -> Npy.readIntegers(negative).toModality()), "got -1 at [0, 1]");
        Path huge = RawFiles.write(dir, "huge.npy", RawFiles.npy(1, dict("<u8", "(1, 1)"), littleEndian(8, -1L)));
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Npy.readIntegers(huge).toModality()),
                "got 18446744073709551615 at [0, 0]");
        Path flat = RawFiles.write(dir, "flat.npy", RawFiles.npy(1, dict("|u1", "(3,)"), littleEndian(1, 1, 1, 2)));
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Npy.readIntegers(flat).toModality()),
                "expected a 2-D modality [batch, length]", "[3]");
        Path floats = RawFiles.write(dir, "f.npy", RawFiles.npy(1, dict("<f4", "(1, 2)"), RawFiles.littleEndianFloats(1,
                2)));
        assertMessageContains(assertThrows(MalformedFileException.class, () -> Npy.readIntegers(floats)),
                "descr: expected an integer dtype", "got '<f4'");
        Path bools = RawFiles.write(dir, "b.npy", RawFiles.npy(1, dict("|b1", "(1, 2)"), littleEndian(1, 1, 0)));
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Npy.read(bools).toModality()),
                "expected dtype |u1 or an integer dtype for a modality", "got |b1");
        Path bigEndian = RawFiles.write(dir, "be.npy", RawFiles.npy(1, dict(">i8", "(1, 1)"), new byte[8]));
        assertMessageContains(assertThrows(MalformedFileException.class, () -> Npy.readIntegers(bigEndian)),
                "got '>i8'");
        Path truncated = RawFiles.write(dir, "t.npy", RawFiles.npy(1, dict("<i4", "(2, 2)"), new byte[12]));
        assertMessageContains(assertThrows(MalformedFileException.class, () -> Npy.readIntegers(truncated)),
                "expected 16 bytes", "file truncated");
    }
}
