package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files whose declared data do not fit in the heap fail with a message naming the file, the tensor, its
 * shape and bytes and the limit, before anything is allocated. The files are sparse: their size is
 * declared, their blocks are never written.
 */
class HeapLimitTest {
    @TempDir
    Path dir;

    /** A file of {@code prefix} then zeros up to {@code size} bytes, without writing the zeros. */
    private Path sparse(String name, byte[] prefix, long size) throws IOException {
        Path p = dir.resolve(name);
        try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
            f.write(prefix);
            f.setLength(size);
        }
        return p;
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String s : parts) {
            assertTrue(e.getMessage().contains(s), "expected '" + s + "' in: " + e.getMessage());
        }
    }

    @Test
    void anNpyDeclaringMoreThanTheHeapIsRefusedBeforeAllocating() throws IOException {
        long max = Runtime.getRuntime().maxMemory();
        int elements = Integer.MAX_VALUE - 8;
        assumeTrue(max < 8L * elements, "the heap holds 16 GiB; no .npy array can exceed it");
        byte[] header = RawFiles.npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (" + elements + ",), }\n",
                new byte[0]);
        Path p = sparse("big.npy", header, header.length + 8L * elements);
        HeapLimitException e = assertThrows(HeapLimitException.class, () -> Npy.read(p));
        assertMessage(e, p.toString(), "data <f8 [" + elements + "]", "needs 16.0 GiB (" + 8L * elements + " bytes)",
                "maximum (-Xmx)", "larger -Xmx");
        assertEquals(8L * elements, e.requiredBytes());
        assertEquals(p, e.file());
    }

    @Test
    void safetensorsWhoseTensorsTogetherExceedTheHeapAreRefusedBeforeAllocatingAny() throws IOException {
        long max = Runtime.getRuntime().maxMemory();
        long per = 4L * (Integer.MAX_VALUE - 8); // an F32 tensor of the largest element count
        int tensors = (int) Math.min(64, max / per + 2);
        StringBuilder h = new StringBuilder("{");
        long offset = 0;
        for (int i = 0; i < tensors; i++) {
            h.append(i == 0 ? "" : ",").append("\"t").append(i).append("\":{\"dtype\":\"F32\",\"shape\":[")
                    .append(Integer.MAX_VALUE - 8).append("],\"data_offsets\":[").append(offset).append(',')
                    .append(offset + per).append("]}");
            offset += per;
        }
        byte[] prefix = RawFiles.safetensors(h.append('}').toString(), new byte[0]);
        assumeTrue(offset > max, "the heap is larger than 64 of the largest tensors");
        Path p = sparse("big.safetensors", prefix, prefix.length + offset);
        HeapLimitException e = assertThrows(HeapLimitException.class, () -> Safetensors.read(p));
        assertMessage(e, p.toString(), tensors + " tensors as float32", "tensor 't0' F32 [" + (Integer.MAX_VALUE - 8)
                + "]", "needs", "of Java heap");
        assertEquals(offset, e.requiredBytes());
        // The header alone is still readable, at the cost of its bytes.
        assertEquals(tensors, Safetensors.readHeader(p).tensors().size());
    }

    @Test
    void sizesArePrintedWithTheirUnitAndExactBytes() {
        assertEquals("512 bytes", HeapCheck.size(512));
        assertEquals("8.0 GiB (8589934336 bytes)", HeapCheck.size(8589934336L));
        assertEquals("1.5 KiB (1536 bytes)", HeapCheck.size(1536));
    }

    @Test
    void aSmallRequestPassesAndAHugeOneFailsWithTheLimit() {
        HeapCheck.require(null, "a few bytes", 1024);
        HeapLimitException e = assertThrows(HeapLimitException.class,
                () -> HeapCheck.require(Files.exists(dir) ? dir : null, "everything", Long.MAX_VALUE / 2));
        assertTrue(e.availableBytes() < Long.MAX_VALUE / 2, e.getMessage());
        assertMessage(e, dir.toString(), "everything needs");
    }
}
