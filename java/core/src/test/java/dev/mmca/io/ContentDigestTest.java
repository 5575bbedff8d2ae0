package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading with a digest hashes exactly the file's bytes, in order, once; and the header alone can be read. */
class ContentDigestTest {
    @TempDir
    Path dir;

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] hashOfBytes(Path p) throws IOException {
        return sha256().digest(Files.readAllBytes(p));
    }

    @Test
    void npyReadsHashTheWholeFileOfEveryVersionAndDtype() throws IOException {
        Path f4 = dir.resolve("f4.npy");
        Npy.writeFloats(f4, RandomInputs.normal(1, 3, 300_000)); // several read chunks
        Path f8 = dir.resolve("f8.npy");
        Npy.writeDoubles(f8, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Path b1 = dir.resolve("b1.npy");
        Npy.writeMask(b1, Mask.fromLengths(new int[] {2, 4}, 4));
        Path v2 = RawFiles.write(dir, "v2.npy", RawFiles.npy(2, "{'descr': '|u1', 'fortran_order': False, 'shape':"
                + " (2, 2), }   \n", new byte[] {0, 1, 1, 0}));
        Path v3 = RawFiles.write(dir, "v3.npy", RawFiles.npy(3, "{\"descr\": \"<f4\", \"fortran_order\": False,"
                + " \"shape\": (2,)}\n", RawFiles.littleEndianFloats(1, 2)));
        for (Path p : List.of(f4, f8, b1, v2, v3)) {
            MessageDigest d = sha256();
            Npy.read(p, d);
            assertArrayEquals(hashOfBytes(p), d.digest(), p.getFileName().toString());
        }
    }

    @Test
    void safetensorsReadsHashTheWholeFileEvenWhenTheHeaderListsTensorsOutOfOffsetOrder() throws IOException {
        Path written = dir.resolve("w.safetensors");
        Map<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("a", RandomInputs.normal(2, 5, 7));
        t.put("b", RandomInputs.normal(3, 300_000));
        Safetensors.write(written, t, Map.of("k", "v"));
        // Header order b, a while a's bytes come first; padding spaces after the JSON.
        byte[] data = new byte[4 * 5 * 7 + 4 * 300_000];
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(t.get("a").toArray())
                .put(t.get("b").toArray());
        Path reordered = RawFiles.write(dir, "r.safetensors", RawFiles.safetensors("{\"b\":{\"dtype\":\"F32\","
                + "\"shape\":[300000],\"data_offsets\":[140,1200140]},\"a\":{\"dtype\":\"F32\",\"shape\":[5,7],"
                + "\"data_offsets\":[0,140]}}    ", data));
        for (Path p : List.of(written, reordered)) {
            MessageDigest d = sha256();
            SafetensorsFile f = Safetensors.read(p, d);
            assertArrayEquals(hashOfBytes(p), d.digest(), p.getFileName().toString());
            assertArrayEquals(t.get("a").toArray(), f.tensors().get("a").toArray());
            assertArrayEquals(t.get("b").toArray(), f.tensors().get("b").toArray());
        }
        assertEquals(List.of("b", "a"), List.copyOf(Safetensors.read(reordered).tensors().keySet()),
                "the map keeps the header's order");
    }

    @Test
    void theHeaderAloneGivesShapesOffsetsMetadataAndTheFileSizeAndCatchesATruncatedFile() throws IOException {
        Path p = dir.resolve("w.safetensors");
        Map<String, FloatTensor> t = new LinkedHashMap<>();
        t.put("x", FloatTensor.zeros(2, 3));
        t.put("y", FloatTensor.zeros(4));
        Safetensors.write(p, t, Map.of("records", "2"));
        SafetensorsHeader h = Safetensors.readHeader(p);
        assertEquals(List.of("x", "y"), List.copyOf(h.tensors().keySet()));
        assertArrayEquals(new int[] {2, 3}, h.tensors().get("x").shape());
        assertEquals(new SafetensorsHeader.TensorInfo("F32", new int[] {4}, 24, 40), h.tensors().get("y"));
        assertEquals(Map.of("records", "2"), h.metadata());
        assertEquals(Files.size(p), h.fileBytes());
        byte[] b = Files.readAllBytes(p);
        Files.write(p, java.util.Arrays.copyOf(b, b.length - 4));
        assertThrows(MalformedFileException.class, () -> Safetensors.readHeader(p));
    }
}
