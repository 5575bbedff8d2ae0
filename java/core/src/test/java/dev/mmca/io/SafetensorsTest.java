package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsTest {
    @TempDir
    Path dir;

    private Path raw(String header, byte[] data) throws IOException {
        return RawFiles.write(dir, "t.safetensors", RawFiles.safetensors(header, data));
    }

    private MalformedFileException malformed(String header, byte[] data) throws IOException {
        Path p = raw(header, data);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Safetensors.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), "message names the file: " + e.getMessage());
        assertEquals(p, e.file());
        return e;
    }

    private static void assertMessageContains(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    @Test
    void writtenTensorsAndMetadataReadBackInOrderAndExactly() throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("zeta", RandomInputs.normal(1, 3, 5));
        tensors.put("alpha", RandomInputs.direct(RandomInputs.normal(2, 2, 3, 4)));
        tensors.put("empty", FloatTensor.zeros(0, 7));
        tensors.put("quote\"and\\slash\nnewline ü 漢", FloatTensor.of(new float[] {Float.NaN, -0f, Float.MIN_VALUE}, 3));
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("heads", "8");
        metadata.put("note", "tab\tand \u0001 control");
        Path p = dir.resolve("model.safetensors");
        Safetensors.write(p, tensors, metadata);

        SafetensorsFile f = Safetensors.read(p);
        assertEquals(List.copyOf(tensors.keySet()), List.copyOf(f.tensors().keySet()));
        for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
            FloatTensor got = f.tensors().get(e.getKey());
            assertArrayEquals(e.getValue().shape(), got.shape(), e.getKey());
            assertFalse(got.isDirect(), "tensors are read onto the heap");
            float[] want = e.getValue().toArray();
            float[] have = got.toArray();
            for (int i = 0; i < want.length; i++) {
                assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(have[i]), e.getKey() + "[" + i + "]");
            }
        }
        assertEquals(metadata, f.metadata());
    }

    @Test
    void writtenHeaderIsPaddedWithSpacesToEightBytesAndDataIsContiguous() throws IOException {
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("a", FloatTensor.of(new float[] {1, 2, 3}, 3));
        tensors.put("bb", FloatTensor.of(new float[] {4, 5}, 1, 2));
        Path p = dir.resolve("x.safetensors");
        Safetensors.write(p, tensors, Map.of());
        byte[] bytes = Files.readAllBytes(p);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header length is a multiple of 8");
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"bb\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[12,20]}}", header.stripTrailing());
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '));
        assertEquals(8 + n + 20, bytes.length);
        assertArrayEquals(RawFiles.littleEndianFloats(1, 2, 3, 4, 5), java.util.Arrays.copyOfRange(bytes, 8 + (int) n, bytes.length));
        assertTrue(Safetensors.read(p).metadata().isEmpty(), "no __metadata__ when none is given");
    }

    @Test
    void f16IsConvertedExactlyIncludingSubnormalsInfinitiesAndNaN() throws IOException {
        int[] bits = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x0400, 0x7C00, 0xFC00, 0x8000, 0x3555, 0x8001, 0x7E00};
        float[] want = {1f, -2f, 65504f, 0x1p-24f, 1023 * 0x1p-24f, 0x1p-14f, Float.POSITIVE_INFINITY,
            Float.NEGATIVE_INFINITY, -0f, 0.333251953125f, -0x1p-24f, Float.NaN};
        Path p = raw("{\"h\":{\"dtype\":\"F16\",\"shape\":[3,4],\"data_offsets\":[0,24]}}", RawFiles.littleEndianShorts(bits));
        FloatTensor t = Safetensors.read(p).tensors().get("h");
        assertArrayEquals(new int[] {3, 4}, t.shape());
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(t.get(i)), "F16 0x" + Integer.toHexString(bits[i]));
        }
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(t.get(8)), "negative zero keeps its sign");
    }

    /** Every one of the 65536 F16 patterns against an independent float64 evaluation of the format. */
    @Test
    void allF16PatternsMatchTheirDefinition() throws IOException {
        int[] bits = new int[1 << 16];
        for (int i = 0; i < bits.length; i++) {
            bits[i] = i;
        }
        Path p = raw("{\"all\":{\"dtype\":\"F16\",\"shape\":[65536],\"data_offsets\":[0,131072]}}",
                RawFiles.littleEndianShorts(bits));
        FloatTensor t = Safetensors.read(p).tensors().get("all");
        for (int h = 0; h < bits.length; h++) {
            int sign = h >>> 15;
            int exp = (h >>> 10) & 31;
            int man = h & 1023;
            double magnitude = exp == 0 ? man * Math.pow(2, -24)
                    : exp == 31 ? (man == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                    : (1 + man / 1024.0) * Math.pow(2, exp - 15);
            double want = sign == 1 ? -magnitude : magnitude;
            float got = t.get(h);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(got), "0x" + Integer.toHexString(h));
            } else {
                assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(got), "0x" + Integer.toHexString(h));
            }
        }
    }

    @Test
    void bf16IsConvertedExactly() throws IOException {
        int[] bits = {0x3F80, 0xC040, 0x7F80, 0xFF80, 0x7FC0, 0x0001, 0x8000, 0x7F7F, 0x4049};
        float[] want = {1f, -3f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 0x1p-133f, -0f,
            Float.intBitsToFloat(0x7F7F0000), 3.140625f};
        Path p = raw("{\"b\":{\"dtype\":\"BF16\",\"shape\":[9],\"data_offsets\":[0,18]}}", RawFiles.littleEndianShorts(bits));
        FloatTensor t = Safetensors.read(p).tensors().get("b");
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(t.get(i)), "BF16 0x" + Integer.toHexString(bits[i]));
        }
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(t.get(6)));
    }

    @Test
    void f64IsRoundedToFloat32AndMixedDtypesLoadTogether() throws IOException {
        byte[] f64 = RawFiles.littleEndianDoubles(0.1, -1e300, 3.0);
        byte[] f32 = RawFiles.littleEndianFloats(7.5f);
        byte[] data = ByteBuffer.allocate(f64.length + f32.length).put(f64).put(f32).array();
        Path p = raw("{\"__metadata__\":{\"k\":\"v\"},\"d\":{\"dtype\":\"F64\",\"shape\":[3],\"data_offsets\":[0,24]},"
                + "\"f\":{\"shape\":[1,1],\"dtype\":\"F32\",\"data_offsets\":[24,28]}}", data);
        SafetensorsFile f = Safetensors.read(p);
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 3f}, f.tensors().get("d").toArray());
        assertArrayEquals(new float[] {7.5f}, f.tensors().get("f").toArray());
        assertEquals(Map.of("k", "v"), f.metadata());
    }

    @Test
    void tensorsMayBeListedInAnyOrderOfOffsetsAndHeaderMayHaveTrailingSpaces() throws IOException {
        Path p = raw("{\"second\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]},"
                + "\"first\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}    ", RawFiles.littleEndianFloats(1, 2));
        SafetensorsFile f = Safetensors.read(p);
        assertEquals(List.of("second", "first"), List.copyOf(f.tensors().keySet()));
        assertEquals(2f, f.tensors().get("second").get(0));
        assertEquals(1f, f.tensors().get("first").get(0));
    }

    @Test
    void unsupportedDtypeIsRejectedNamingTensorAndDtype() throws IOException {
        MalformedFileException e = malformed("{\"ids\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessageContains(e, "tensor 'ids'", "I64", "F32, F16, BF16 or F64");
    }

    @Test
    void tooShortFileIsRejected() throws IOException {
        MalformedFileException e = malformed("", new byte[0]);
        // 8 bytes of header length 0: an empty header
        assertMessageContains(e, "empty header");
        Path p = RawFiles.write(dir, "short", new byte[] {1, 2, 3});
        MalformedFileException e2 = assertThrows(MalformedFileException.class, () -> Safetensors.read(p));
        assertMessageContains(e2, "at least 8 bytes", "got 3 bytes");
    }

    @Test
    void headerLengthPastTheEndOfTheFileIsRejected() throws IOException {
        byte[] bytes = RawFiles.safetensors("{}", new byte[0]);
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 3);
        Path p = RawFiles.write(dir, "past", bytes);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Safetensors.read(p));
        assertMessageContains(e, "header length", "3 bytes goes past the end", "at most 2");
    }

    @Test
    void headerLengthAboveTheCapIsRejectedWithoutAllocatingIt() throws IOException {
        for (long n : new long[] {100_000_001L, -1L, Long.MIN_VALUE, 1L << 40}) {
            byte[] bytes = RawFiles.safetensors("{}", new byte[0]);
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, n);
            Path p = RawFiles.write(dir, "cap", bytes);
            MalformedFileException e = assertThrows(MalformedFileException.class, () -> Safetensors.read(p));
            assertMessageContains(e, "header length: expected at most 100000000 bytes, got " + Long.toUnsignedString(n));
        }
    }

    @Test
    void invalidJsonIsRejectedWithItsPosition() throws IOException {
        assertMessageContains(malformed("{\"a\":{\"dtype\":\"F32\",}}", new byte[0]), "expected valid JSON", "character");
        assertMessageContains(malformed("{\"a\" 1}", new byte[0]), "expected ':'", "character 5");
        assertMessageContains(malformed("{} x", new byte[0]), "end of the JSON text");
        assertMessageContains(malformed("[]", new byte[0]), "starting with '{'");
        assertMessageContains(malformed("{\"a\":{},\"a\":{}}", new byte[0]), "duplicate key \"a\"");
        assertMessageContains(malformed("{\"\\x\":1}", new byte[0]), "JSON escape");
        assertMessageContains(malformed("{\"a\":01}", new byte[0]), "expected valid JSON");
        assertMessageContains(malformed("{\"a\":\"\\ud800\"}", new byte[0]), "low surrogate");
        assertMessageContains(malformed("{" + "[".repeat(100) + "]".repeat(100) + "}", new byte[0]), "expected valid JSON");
        assertMessageContains(malformed("{\"a\":" + "[".repeat(10_000), new byte[0]), "nested");
    }

    @Test
    void invalidUtf8HeaderIsRejected() throws IOException {
        byte[] bytes = RawFiles.safetensors("{\"\u00e9\":1}", new byte[0]);
        bytes[10] = (byte) 0xff;
        Path p = RawFiles.write(dir, "utf8", bytes);
        assertMessageContains(assertThrows(MalformedFileException.class, () -> Safetensors.read(p)), "UTF-8");
    }

    @Test
    void badTensorEntriesAreRejectedNamingTheTensor() throws IOException {
        byte[] four = new byte[4];
        assertMessageContains(malformed("{\"t\":[1]}", four), "tensor 't'", "expected an object");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1]}}", four), "tensor 't'", "missing the field 'data_offsets'");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", four),
                "unknown field 'x'");
        assertMessageContains(malformed("{\"t\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", four), "dtype: expected a string");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", four),
                "shape[0]", "expected an integer in 0..2147483647", "-1");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}", four), "shape[0]");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", four), "scalar");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", four),
                "data_offsets: expected an array [begin, end], got an array of 1 values");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", four),
                "begin <= end", "[4, 0]");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", four), "[-4, 0]");
        assertMessageContains(malformed("{\"__metadata__\":{\"k\":1}}", new byte[0]), "__metadata__.k", "expected a string");
        assertMessageContains(malformed("{\"__metadata__\":[]}", new byte[0]), "__metadata__", "object of strings");
    }

    @Test
    void offsetsOutsideTheDataAreaAreRejected() throws IOException {
        MalformedFileException e = malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[4]);
        assertMessageContains(e, "tensor 't'", "outside the data area", "end <= 4");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,99999999999999999999]}}",
                new byte[8]), "data_offsets", "99999999999999999999");
    }

    @Test
    void byteCountMustMatchTheShape() throws IOException {
        MalformedFileException e = malformed("{\"t\":{\"dtype\":\"F16\",\"shape\":[2,3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertMessageContains(e, "tensor 't'", "expected 12 bytes for F16 shape [2, 3]", "(8 bytes)");
    }

    @Test
    void overlappingGappedAndIncompleteCoverageAreRejected() throws IOException {
        String a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        assertMessageContains(malformed("{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
                "tensor 'b'", "overlaps tensor 'a' [0, 8]", "expected begin 8");
        assertMessageContains(malformed("{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", new byte[16]),
                "tensor 'b'", "leaves a gap after tensor 'a'");
        assertMessageContains(malformed("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]),
                "gap after the start of the data area");
        assertMessageContains(malformed("{" + a + "}", new byte[12]), "cover all 12 bytes", "got 8 bytes covered");
        assertMessageContains(malformed("{}", new byte[3]), "cover all 3 bytes");
    }

    @Test
    void hugeShapesInSmallFilesAreRejectedBeforeAnyAllocation() throws IOException {
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", new byte[4]),
                "tensor 't'", "at most 2^31-9 elements");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647,2147483647],"
                + "\"data_offsets\":[0,4]}}", new byte[4]), "at most 2^31-9 elements");
        // Within the element limit but far larger than the file: caught by the offsets, before allocating 4 GiB.
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[1073741824],\"data_offsets\":[0,4294967296]}}",
                new byte[4]), "outside the data area");
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[2147483647],\"data_offsets\":[0,4]}}", new byte[4]),
                "at most 2^31-9 elements");
        // A leading empty dimension makes the product zero however large the others are.
        SafetensorsFile f = Safetensors.read(raw("{\"t\":{\"dtype\":\"F32\",\"shape\":[0,2147483647],\"data_offsets\":[0,0]}}", new byte[0]));
        assertEquals(0, f.tensors().get("t").size());
        // FloatTensor bounds every leading partial product, so the reader does too (not an IllegalArgumentException).
        assertMessageContains(malformed("{\"t\":{\"dtype\":\"F32\",\"shape\":[2147483647,0],\"data_offsets\":[0,0]}}",
                new byte[0]), "at most 2^31-9 elements");
    }

    @Test
    void missingFileIsAnIoExceptionButNotMalformed() {
        IOException e = assertThrows(IOException.class, () -> Safetensors.read(dir.resolve("absent.safetensors")));
        assertFalse(e instanceof MalformedFileException);
        assertMessageContains(e, "absent.safetensors");
    }

    @Test
    void writerRejectsReservedAndNullNamesWithoutLeavingAFile() {
        Path p = dir.resolve("bad.safetensors");
        Map<String, FloatTensor> reserved = Map.of("__metadata__", FloatTensor.zeros(1));
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, reserved, null)),
                "__metadata__");
        Map<String, FloatTensor> nullTensor = new LinkedHashMap<>();
        nullTensor.put("x", null);
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, nullTensor, null)),
                "'x'", "null");
        Map<String, FloatTensor> badName = Map.of("\ud800", FloatTensor.zeros(1));
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Safetensors.write(p, badName, null)),
                "Unicode");
        assertFalse(Files.exists(p));
    }

    @Test
    void writerReportsAMissingDirectory() {
        Path p = dir.resolve("no/such/dir/x.safetensors");
        IOException e = assertThrows(IOException.class, () -> Safetensors.write(p, Map.of(), Map.of()));
        assertMessageContains(e, p.toString(), "does not exist");
    }

    @Test
    void largeTensorRoundTripsThroughSeveralChunks() throws IOException {
        FloatTensor big = RandomInputs.normal(9, 1000, 700); // 2.8 MB, more than two read chunks
        Path p = dir.resolve("big.safetensors");
        Safetensors.write(p, Map.of("w", big), Map.of());
        assertArrayEquals(big.toArray(), Safetensors.read(p).tensors().get("w").toArray());
        FloatTensor direct = RandomInputs.direct(big);
        Safetensors.write(p, Map.of("w", direct), Map.of());
        assertArrayEquals(big.toArray(), Safetensors.read(p).tensors().get("w").toArray());
    }
}
