package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFuzzTest {
    @TempDir
    Path dir;

    private List<byte[]> seeds() throws IOException {
        MmcaConfig config = MmcaConfig.builder().dim(8).heads(4).kvHeads(2).dimHead(2).build();
        Path model = dir.resolve("model.safetensors");
        ModelFiles.save(model, config, MmcaWeights.random(config, 3));

        byte[] f16 = RawFiles.littleEndianShorts(0x3C00, 0x7C00, 0x0001, 0xFE00);
        byte[] bf16 = RawFiles.littleEndianShorts(0x3F80, 0x7FC0);
        byte[] f64 = RawFiles.littleEndianDoubles(1.5, -2.25);
        byte[] data = ByteBuffer.allocate(f16.length + bf16.length + f64.length).put(f16).put(bf16).put(f64).array();
        byte[] mixed = RawFiles.safetensors("{\"__metadata__\":{\"heads\":\"2\",\"x\":\"\\u00e9\"},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                + "\"d\":{\"dtype\":\"F64\",\"shape\":[1,2,1],\"data_offsets\":[12,28]}}  ", data);

        Map<String, FloatTensor> small = new LinkedHashMap<>();
        small.put("empty", FloatTensor.zeros(0, 3));
        small.put("v", FloatTensor.of(new float[] {1, 2, 3}, 3));
        Path plain = dir.resolve("plain.safetensors");
        Safetensors.write(plain, small, Map.of());
        return List.of(Files.readAllBytes(model), mixed, Files.readAllBytes(plain));
    }

    @Test
    void corruptedFilesEitherLoadOrFailAsMalformed() throws IOException {
        FileFuzzer.Outcome o = FileFuzzer.run(seeds(), Safetensors::read,
                bytes -> {
                    long n = bytes.length < 8 ? 0 : ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
                    int end = (int) Math.max(8, Math.min(bytes.length, 8 + Math.max(0, Math.min(n, bytes.length))));
                    return new int[] {Math.min(8, bytes.length), end};
                },
                0, 8, List.of("F32", "F16", "BF16", "F64", "I64", "U8", "dtype", "shape", "data_offsets",
                    "__metadata__", "[", "]", "{", "}", "\"", ",", ":", "null", "true"),
                0x5afe7e5L, 3000, dir);
        assertTrue(o.malformed > 1000, "most mutations are detected: " + o.malformed);
        assertTrue(o.succeeded > 50, "some mutations (e.g. of data bytes) still load: " + o.succeeded);
    }
}
