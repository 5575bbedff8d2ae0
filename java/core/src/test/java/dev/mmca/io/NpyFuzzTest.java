package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Mask;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyFuzzTest {
    @TempDir
    Path dir;

    private List<byte[]> seeds() throws IOException {
        Path f4 = dir.resolve("f4.npy");
        Npy.writeFloats(f4, RandomInputs.normal(1, 3, 4));
        Path f8 = dir.resolve("f8.npy");
        Npy.writeDoubles(f8, new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Path b1 = dir.resolve("b1.npy");
        Npy.writeMask(b1, Mask.fromLengths(new int[] {2, 4}, 4));
        byte[] v2 = RawFiles.npy(2, "{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }   \n", new byte[] {0, 1, 1, 0});
        byte[] v3 = RawFiles.npy(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}\n",
                RawFiles.littleEndianFloats(1, 2));
        return List.of(Files.readAllBytes(f4), Files.readAllBytes(f8), Files.readAllBytes(b1), v2, v3);
    }

    /** Reads, then also runs the conversions that succeed or fail by the documented unchecked exception. */
    private static Object readAndConvert(Path p) throws IOException {
        NpyArray a = Npy.read(p);
        a.toDoubles();
        try {
            a.toFloatTensor();
        } catch (IllegalArgumentException expected) {
            // wrong dtype or 0-d: documented
        }
        try {
            a.toMask();
        } catch (IllegalArgumentException expected) {
            // wrong dtype, rank or values: documented
        }
        return a;
    }

    @Test
    void corruptedFilesEitherLoadOrFailAsMalformed() throws IOException {
        FileFuzzer.Outcome o = FileFuzzer.run(seeds(), NpyFuzzTest::readAndConvert,
                bytes -> {
                    // The header lies after the length field (2 bytes in version 1.0, 4 after); all lengths here fit in 2.
                    int major = bytes.length > 6 ? bytes[6] : 1;
                    int start = Math.min(bytes.length, major == 1 ? 10 : 12);
                    int length = bytes.length >= 10 ? (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8 : 0;
                    return new int[] {start, Math.min(bytes.length, start + length)};
                },
                8, 2, List.of("<f4", "<f8", "|b1", "|u1", ">f4", "<i8", "descr", "shape", "fortran_order", "True",
                    "False", "(", ")", ",", "'", "{", "}", ":", "L"),
                0x0b5e55edL, 3000, dir);
        assertTrue(o.malformed > 1000, "most mutations are detected: " + o.malformed);
        assertTrue(o.succeeded > 50, "some mutations (e.g. of data bytes) still load: " + o.succeeded);
    }
}
