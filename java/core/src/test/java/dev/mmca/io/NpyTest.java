package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NpyTest {
    @TempDir
    Path dir;

    private static void assertMessageContains(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
        }
    }

    private MalformedFileException malformed(byte[] content) throws IOException {
        Path p = RawFiles.write(dir, "bad.npy", content);
        MalformedFileException e = assertThrows(MalformedFileException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString()), e.getMessage());
        return e;
    }

    private static String dict(String descr, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }\n";
    }

    @Test
    void floatsRoundTripWithNumpyLayout() throws IOException {
        FloatTensor t = RandomInputs.normal(4, 2, 3, 5);
        Path p = dir.resolve("x.npy");
        Npy.writeFloats(p, t);
        byte[] bytes = Files.readAllBytes(p);
        assertEquals(0, (bytes.length - t.size() * 4) % 64, "data starts 64-byte aligned");
        String header = new String(bytes, 10, bytes.length - 10 - t.size() * 4, StandardCharsets.US_ASCII);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 5), }", header.stripTrailing());
        assertTrue(header.endsWith("\n"));
        assertEquals(1, bytes[6]);
        assertEquals(0, bytes[7]);

        NpyArray a = Npy.read(p);
        assertEquals("<f4", a.dtype());
        assertArrayEquals(new int[] {2, 3, 5}, a.shape());
        assertArrayEquals(t.toArray(), a.toFloatTensor().toArray());
        assertArrayEquals(new int[] {2, 3, 5}, a.toFloatTensor().shape());
        double[] d = a.toDoubles();
        for (int i = 0; i < d.length; i++) {
            assertEquals(t.get(i), d[i]);
        }
    }

    @Test
    void directTensorsAndOneDimensionalShapesAreWritten() throws IOException {
        FloatTensor t = RandomInputs.direct(RandomInputs.normal(5, 7));
        Path p = dir.resolve("v.npy");
        Npy.writeFloats(p, t);
        String text = new String(Files.readAllBytes(p), StandardCharsets.ISO_8859_1);
        assertTrue(text.contains("'shape': (7,)"), "a 1-tuple keeps its comma");
        assertArrayEquals(t.toArray(), Npy.read(p).toFloatTensor().toArray());
    }

    @Test
    void doublesRoundTripExactlyAndConvertToFloats() throws IOException {
        double[] data = {0.1, -2.5, 1e-300, Double.MAX_VALUE, Double.NaN, 3};
        Path p = dir.resolve("d.npy");
        Npy.writeDoubles(p, data, 3, 2);
        NpyArray a = Npy.read(p);
        assertEquals("<f8", a.dtype());
        assertArrayEquals(new int[] {3, 2}, a.shape());
        assertArrayEquals(data, a.toDoubles());
        FloatTensor f = a.toFloatTensor();
        assertArrayEquals(new float[] {0.1f, -2.5f, 0f, Float.POSITIVE_INFINITY, Float.NaN, 3f}, f.toArray());
        Npy.writeDoubles(p, data);
        assertArrayEquals(new int[] {6}, Npy.read(p).shape(), "no shape means 1-D");
    }

    @Test
    void writeDoublesRejectsAMismatchedShape() {
        Path p = dir.resolve("bad.npy");
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Npy.writeDoubles(p, new double[5], 2, 3)),
                "expected 6 values for shape [2, 3], got 5");
        assertMessageContains(assertThrows(IllegalArgumentException.class, () -> Npy.writeDoubles(p, new double[0], -1)),
                "non-negative");
        assertFalse(Files.exists(p));
    }

    @Test
    void masksRoundTripAsBooleans() throws IOException {
        Mask m = Mask.fromLengths(new int[] {3, 0, 5}, 5);
        Path p = dir.resolve("m.npy");
        Npy.writeMask(p, m);
        NpyArray a = Npy.read(p);
        assertEquals("|b1", a.dtype());
        assertEquals(m, a.toMask());
        assertEquals(3.0, java.util.Arrays.stream(a.toDoubles()).limit(5).sum());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void everyHeaderVersionAndDtypeIsRead(int version) throws IOException {
        NpyArray f4 = Npy.read(RawFiles.write(dir, "f4.npy", RawFiles.npy(version, dict("<f4", "(2, 2)"),
                RawFiles.littleEndianFloats(1, -2, 3.5f, 0))));
        assertArrayEquals(new float[] {1, -2, 3.5f, 0}, f4.toFloatTensor().toArray());
        NpyArray f8 = Npy.read(RawFiles.write(dir, "f8.npy", RawFiles.npy(version, dict("<f8", "(3,)"),
                RawFiles.littleEndianDoubles(1, 2, 3))));
        assertArrayEquals(new double[] {1, 2, 3}, f8.toDoubles());
        NpyArray b1 = Npy.read(RawFiles.write(dir, "b1.npy", RawFiles.npy(version, dict("|b1", "(1, 3)"),
                new byte[] {1, 0, 1})));
        assertEquals(Mask.of(new boolean[] {true, false, true}, 1, 3), b1.toMask());
        NpyArray u1 = Npy.read(RawFiles.write(dir, "u1.npy", RawFiles.npy(version, dict("|u1", "(2, 1)"),
                new byte[] {0, 1})));
        assertEquals("|u1", u1.dtype());
        assertEquals(Mask.of(new boolean[] {false, true}, 2, 1), u1.toMask());
    }

    @Test
    void headerSyntaxVariantsThatNumpyWritesAreAccepted() throws IOException {
        String[] dicts = {
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
            "{\"descr\": \"<f4\", \"shape\": (2,), \"fortran_order\": False}",
            "{'shape':(2,),'fortran_order':False,'descr':'<f4'}      \n",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, ), }",
        };
        for (String d : dicts) {
            NpyArray a = Npy.read(RawFiles.write(dir, "v.npy", RawFiles.npy(1, d, RawFiles.littleEndianFloats(1, 2))));
            assertEquals(2, a.size(), d);
        }
        NpyArray scalar = Npy.read(RawFiles.write(dir, "s.npy", RawFiles.npy(1, dict("<f8", "()"), RawFiles.littleEndianDoubles(4))));
        assertArrayEquals(new int[0], scalar.shape());
        assertArrayEquals(new double[] {4}, scalar.toDoubles());
        assertMessageContains(assertThrows(IllegalArgumentException.class, scalar::toFloatTensor), "0-d");
    }

    @Test
    void fortranOrderIsAClearError() throws IOException {
        MalformedFileException e = malformed(RawFiles.npy(1,
                "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]));
        assertMessageContains(e, "fortran_order", "C order", "got True");
    }

    @Test
    void unsupportedDtypesAreRejectedNamingThem() throws IOException {
        assertMessageContains(malformed(RawFiles.npy(1, dict(">f4", "(1,)"), new byte[4])), "descr", "'>f4'", "'<f4'");
        assertMessageContains(malformed(RawFiles.npy(1, dict("<i8", "(1,)"), new byte[8])), "'<i8'");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
                new byte[4])), "structured dtypes are not supported");
    }

    @Test
    void conversionsToTheWrongKindNameTheDtype() throws IOException {
        NpyArray mask = Npy.read(RawFiles.write(dir, "b.npy", RawFiles.npy(1, dict("|b1", "(1, 2)"), new byte[] {1, 0})));
        assertMessageContains(assertThrows(IllegalArgumentException.class, mask::toFloatTensor), "<f4 or <f8", "|b1");
        NpyArray floats = Npy.read(RawFiles.write(dir, "f.npy", RawFiles.npy(1, dict("<f4", "(1, 1)"), new byte[4])));
        assertMessageContains(assertThrows(IllegalArgumentException.class, floats::toMask), "|b1 or |u1", "<f4");
        NpyArray flat = Npy.read(RawFiles.write(dir, "u.npy", RawFiles.npy(1, dict("|u1", "(3,)"), new byte[3])));
        assertMessageContains(assertThrows(IllegalArgumentException.class, flat::toMask), "2-D", "[3]");
        NpyArray twos = Npy.read(RawFiles.write(dir, "u2.npy", RawFiles.npy(1, dict("|u1", "(1, 2)"), new byte[] {1, 2})));
        assertMessageContains(assertThrows(IllegalArgumentException.class, twos::toMask), "0 or 1", "got 2", "index 1");
    }

    @Test
    void booleanValuesOtherThanZeroAndOneAreMalformed() throws IOException {
        assertMessageContains(malformed(RawFiles.npy(1, dict("|b1", "(1, 3)"), new byte[] {1, 0, 7})),
                "|b1 values 0 or 1", "got 7", "index 2");
    }

    @Test
    void badPrefixesAreRejected() throws IOException {
        assertMessageContains(malformed(new byte[] {(byte) 0x93, 'N', 'U'}), "at least 10 bytes", "got 3");
        byte[] wrongMagic = RawFiles.npy(1, dict("<f4", "(1,)"), new byte[4]);
        wrongMagic[1] = 'X';
        assertMessageContains(malformed(wrongMagic), "magic", "\\x93\\x58");
        byte[] version = RawFiles.npy(1, dict("<f4", "(1,)"), new byte[4]);
        version[6] = 4;
        assertMessageContains(malformed(version), "version", "got 4.0");
        version[6] = 1;
        version[7] = 1;
        assertMessageContains(malformed(version), "got 1.1");
        byte[] past = RawFiles.npy(1, dict("<f4", "(1,)"), new byte[0]);
        past[8] = (byte) 0xff;
        assertMessageContains(malformed(past), "header length", "goes past the end");
        byte[] huge = RawFiles.npy(2, dict("<f4", "(1,)"), new byte[4]);
        huge[11] = 0x7f;
        assertMessageContains(malformed(huge), "header length: expected at most 1048576");
        assertMessageContains(malformed(java.util.Arrays.copyOf(RawFiles.npy(2, dict("<f4", "(1,)"), new byte[0]), 11)),
                "version 2.0", "at least 12 bytes");
    }

    @Test
    void strictHeaderGrammarRejectsMalformedDictionaries() throws IOException {
        byte[] four = new byte[4];
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'shape': (1,), }", four)), "missing 'fortran_order'");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", four)),
                "only the keys", "'x'");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", four)),
                "each key once");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1)}", four)),
                "'(n,)' with a comma");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}", four)),
                "True or False");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", four)),
                "non-negative integer");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (01,)}", four)),
                "leading zeros");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x", four)),
                "only padding");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (1,)}", four)),
                "no escapes");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4", four)), "terminated string");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ("
                + "1, ".repeat(65) + ")}", four)), "at most 64 dimensions");
        assertMessageContains(malformed(RawFiles.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ("
                + "9".repeat(30) + ",)}", four)), "at most 18 digits");
        byte[] badUtf8 = RawFiles.npy(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", four);
        badUtf8[14] = (byte) 0xff;
        assertMessageContains(malformed(badUtf8), "UTF-8");
    }

    @Test
    void dataLengthMustMatchTheShape() throws IOException {
        assertMessageContains(malformed(RawFiles.npy(1, dict("<f4", "(2, 3)"), new byte[20])),
                "expected 24 bytes for <f4 shape [2, 3], got 20 bytes", "truncated");
        assertMessageContains(malformed(RawFiles.npy(1, dict("<f4", "(1,)"), new byte[5])), "trailing");
    }

    @Test
    void hugeShapesAreRejectedBeforeAnyAllocation() throws IOException {
        assertMessageContains(malformed(RawFiles.npy(1, dict("<f4", "(65536, 65536)"), new byte[4])), "at most 2^31-9 elements");
        assertMessageContains(malformed(RawFiles.npy(1, dict("<f8", "(3000000000,)"), new byte[4])), "shape[0]", "3000000000");
        assertMessageContains(malformed(RawFiles.npy(1, dict("<f8", "(268435456,)"), new byte[8])), "expected 2147483648 bytes");
    }

    @Test
    void missingFileIsAnIoExceptionButNotMalformed() {
        IOException e = assertThrows(IOException.class, () -> Npy.read(dir.resolve("absent.npy")));
        assertFalse(e instanceof MalformedFileException);
    }

    @Test
    void writersReportAMissingDirectory() {
        Path p = dir.resolve("missing/x.npy");
        assertMessageContains(assertThrows(IOException.class, () -> Npy.writeFloats(p, FloatTensor.zeros(1))),
                p.toString(), "does not exist");
        assertMessageContains(assertThrows(IOException.class, () -> Npy.writeMask(p, Mask.all(1, 1))), "does not exist");
        assertMessageContains(assertThrows(IOException.class, () -> Npy.writeDoubles(p, new double[1])), "does not exist");
    }
}
