package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmca.FloatTensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> listing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void writesTheContentAndLeavesNoTemporaryFile() throws IOException {
        Path p = dir.resolve("out.txt");
        AtomicFiles.write(p, out -> out.write("hello".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("hello", Files.readString(p));
        assertEquals(List.of("out.txt"), listing());
    }

    @Test
    void replacesAnExistingFile() throws IOException {
        Path p = dir.resolve("out.txt");
        Files.writeString(p, "old content that is longer");
        AtomicFiles.write(p, out -> {
            out.write('n');
            out.write("ew".getBytes(StandardCharsets.US_ASCII));
            out.close(); // allowed: the content is still forced and renamed
        });
        assertEquals("new", Files.readString(p));
        assertEquals(List.of("out.txt"), listing());
    }

    @Test
    void aBodyThatFailsMidwayLeavesNoFileAndNoTemporaryFile() throws IOException {
        Path p = dir.resolve("out.bin");
        IOException boom = new IOException("disk on fire");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(p, out -> {
            out.write(new byte[200_000]); // more than the buffer, so bytes reach the temporary file
            throw boom;
        }));
        assertSame(boom, e, "the body's exception is rethrown as it is");
        assertFalse(Files.exists(p));
        assertEquals(List.of(), listing());
    }

    @Test
    void aFailedRewriteKeepsTheOldFile() throws IOException {
        Path p = dir.resolve("out.txt");
        Files.writeString(p, "old");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, out -> {
            out.write("partial".getBytes(StandardCharsets.US_ASCII));
            throw new IllegalStateException("stop");
        }));
        assertEquals("old", Files.readString(p));
        assertEquals(List.of("out.txt"), listing());
    }

    /**
     * The format writers fail midway when the writing thread is interrupted: the file channel is then
     * closed under them (ClosedByInterruptException) after the header has been produced.
     */
    @Test
    void formatWritersInterruptedMidwayLeaveNoFileAndNoTemporaryFile() throws IOException {
        FloatTensor big = FloatTensor.zeros(400_000);
        Path st = dir.resolve("w.safetensors");
        Path npy = dir.resolve("w.npy");
        Path model = dir.resolve("m.safetensors");
        Files.writeString(npy, "previous");
        try {
            Thread.currentThread().interrupt();
            assertThrows(java.nio.channels.ClosedByInterruptException.class,
                    () -> Safetensors.write(st, Map.of("w", big), Map.of("k", "v")));
            Thread.currentThread().interrupt();
            assertThrows(java.nio.channels.ClosedByInterruptException.class, () -> Npy.writeFloats(npy, big));
            Thread.currentThread().interrupt();
            dev.mmca.MmcaConfig config = dev.mmca.MmcaConfig.builder().dim(256).heads(8).dimHead(32).build();
            assertThrows(java.nio.channels.ClosedByInterruptException.class,
                    () -> ModelFiles.save(model, config, dev.mmca.MmcaWeights.random(config, 1)));
        } finally {
            Thread.interrupted();
        }
        assertEquals(List.of("w.npy"), listing());
        assertEquals("previous", Files.readString(npy));
    }

    @Test
    void missingDirectoryIsNamed() {
        Path p = dir.resolve("nope/out.txt");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(p, out -> out.write(1)));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void aFileAsParentDirectoryIsNamed() throws IOException {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        Path p = file.resolve("out.txt");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(p, out -> out.write(1)));
        assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("is not a directory"), e.getMessage());
    }

    @Test
    void anExistingDirectoryAsTargetIsRejected() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(sub, out -> out.write(1)));
        assertTrue(e.getMessage().contains("existing directory"), e.getMessage());
        assertTrue(Files.isDirectory(sub));
    }

    @Test
    void unwritableDirectoryIsNamedWithTheReason() throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "POSIX permissions");
        Path locked = Files.createDirectory(dir.resolve("locked"));
        Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(locked), "permissions are not enforced for this user (e.g. root)");
            Path p = locked.resolve("out.txt");
            IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(p, out -> out.write(1)));
            assertTrue(e.getMessage().contains(p.toString()) && e.getMessage().contains("not writable"), e.getMessage());
        } finally {
            Files.setPosixFilePermissions(locked, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void largeContentIsWrittenCompletely() throws IOException {
        byte[] data = new byte[3_000_001];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31);
        }
        Path p = dir.resolve("big.bin");
        AtomicFiles.write(p, out -> out.write(data));
        assertArrayEquals(data, Files.readAllBytes(p));
    }
}
