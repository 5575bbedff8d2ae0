package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.testing.RandomInputs;
import dev.mmca.testing.SpecialFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

/** Inputs that are not regular files are refused without blocking; outputs never replace a special file. */
class SpecialFilesTest {
    @TempDir
    Path dir;

    private static <T extends Throwable> T quickly(Class<T> type, Executable e) {
        return assertTimeoutPreemptively(Duration.ofSeconds(20), () -> assertThrows(type, e));
    }

    private static void assertMessage(Throwable e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
        }
    }

    @Test
    void aFifoAsInputIsRefusedInsteadOfWaitingForAWriter() throws IOException {
        Path fifo = SpecialFiles.fifo(dir.resolve("in.npy"));
        assertMessage(quickly(FileSystemException.class, () -> Npy.read(fifo)), fifo.toString(),
                "expected a regular file", "FIFO");
        Path st = SpecialFiles.fifo(dir.resolve("w.safetensors"));
        assertMessage(quickly(FileSystemException.class, () -> Safetensors.read(st)), st.toString(), "FIFO");
        assertMessage(quickly(FileSystemException.class, () -> Safetensors.readHeader(st)), st.toString(), "FIFO");
        assertMessage(quickly(FileSystemException.class, () -> ModelFiles.load(st)), st.toString(), "FIFO");
    }

    @Test
    void aDeviceAsInputIsRefused() throws IOException {
        Path dev = SpecialFiles.nullDevice(dir.resolve("dev.npy"));
        assertMessage(quickly(FileSystemException.class, () -> Npy.read(dev)), dev.toString(), "character device");
    }

    @Test
    void aDirectoryOrAMissingFileAsInputIsNamedWithWhatWasFound() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub.npy"));
        assertMessage(assertThrows(FileSystemException.class, () -> Npy.read(sub)), sub.toString(),
                "expected a regular file, got a directory");
        Path missing = dir.resolve("nope.npy");
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> Npy.read(missing));
        assertMessage(e, missing.toString(), "no such file");
        Path dangling = Files.createSymbolicLink(dir.resolve("link.npy"), dir.resolve("gone.npy"));
        assertMessage(assertThrows(NoSuchFileException.class, () -> Safetensors.read(dangling)), dangling.toString(),
                "symbolic link", "gone.npy", "does not exist");
    }

    @Test
    void aSymbolicLinkToARegularFileIsReadThrough() throws IOException {
        Path real = dir.resolve("real.npy");
        FloatTensor t = RandomInputs.normal(3, 2, 3);
        Npy.writeFloats(real, t);
        Path link = Files.createSymbolicLink(dir.resolve("link.npy"), real);
        assertEquals(List.of(2, 3), java.util.Arrays.stream(Npy.read(link).shape()).boxed().toList());
    }

    /** Each kind of special file, as made by the given maker, is refused as an output target and left as it was. */
    private void assertRefusedAsTarget(Path target, String kind) throws IOException {
        String before = SpecialFiles.statType(target);
        IOException e = quickly(IOException.class, () -> Npy.writeFloats(target, FloatTensor.zeros(2)));
        assertMessage(e, target.toString(), "expected a new path or a regular file", kind, "refused");
        assertEquals(before, SpecialFiles.statType(target), "the target is left as it was");
        IOException pre = assertThrows(IOException.class, () -> AtomicFiles.checkTarget(target));
        assertEquals(e.getMessage(), pre.getMessage());
        assertEquals(List.of(target.getFileName().toString()), names(target.getParent()), "no temporary file left");
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void anExistingFifoAsOutputIsRefusedNotReplaced() throws IOException {
        assertRefusedAsTarget(SpecialFiles.fifo(Files.createDirectory(dir.resolve("f")).resolve("out.npy")), "FIFO");
    }

    @Test
    void anExistingCharacterDeviceAsOutputIsRefusedNotReplaced() throws IOException {
        Path d = Files.createDirectory(dir.resolve("d"));
        assertRefusedAsTarget(SpecialFiles.nullDevice(d.resolve("null")), "character device");
    }

    @Test
    void anExistingSymbolicLinkAsOutputIsRefusedAndItsTargetKept() throws IOException {
        Path d = Files.createDirectory(dir.resolve("l"));
        Path real = Files.writeString(dir.resolve("real.txt"), "keep");
        Path link = Files.createSymbolicLink(d.resolve("out.npy"), real);
        IOException e = assertThrows(IOException.class, () -> Safetensors.write(link, Map.of(), Map.of()));
        assertMessage(e, link.toString(), "symbolic link", "real.txt", "give the link's target instead");
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("keep", Files.readString(real));
    }

    @Test
    void aFullDiskNamesTheTargetTheTemporaryFileAndTheReasonAndKeepsTheOldFile() throws Exception {
        Path mount = dir.resolve("tiny");
        AutoCloseable fs = SpecialFiles.tinyFileSystem(mount, 64);
        try {
            Path target = mount.resolve("out.npy");
            Npy.writeFloats(target, FloatTensor.zeros(4));
            byte[] before = Files.readAllBytes(target);
            IOException e = assertThrows(IOException.class, () -> Npy.writeFloats(target, FloatTensor.zeros(100_000)));
            assertMessage(e, "cannot write " + target, "No space left on device", "temporary file " + mount,
                    "the target is left as it was");
            assertEquals(List.of("out.npy"), names(mount), "the temporary file is deleted");
            assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(Files.readAllBytes(target)));
        } finally {
            fs.close();
        }
    }

    @Test
    void aFailingWriteGetsTheTargetAndTheTemporaryFileInItsMessage() {
        OutputStream failing = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("No space left on device");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("No space left on device");
            }
        };
        Path target = dir.resolve("x.npy");
        Path temp = dir.resolve(".x.npy.1.tmp");
        AtomicFiles.KeepOpen k = new AtomicFiles.KeepOpen(failing, target, temp);
        IOException e = assertThrows(IOException.class, () -> k.write(new byte[10], 0, 10));
        assertEquals("cannot write " + target + ": No space left on device (writing 10 bytes at offset 0; temporary"
                + " file " + temp + "; the target is left as it was)", e.getMessage());
        AtomicFiles.KeepOpen ok = new AtomicFiles.KeepOpen(new ByteArrayOutputStream(), target, temp);
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> ok.write(new byte[3], 0, 3));
    }
}
