package dev.mmca.testing;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Makes FIFOs, device nodes and small full file systems for tests, with the system's own tools
 * ({@code mkfifo}, {@code mknod}, {@code mount}); a test that needs one is skipped, with the reason,
 * where the tool is missing or not permitted (device nodes and mounts need root).
 */
public final class SpecialFiles {
    private SpecialFiles() {
    }

    /** A FIFO at {@code path}; skips the test when one cannot be made. */
    public static Path fifo(Path path) throws IOException {
        assumeTrue(run("mkfifo", path.toString()), "mkfifo is not available here");
        assumeTrue(!Files.isRegularFile(path) && Files.exists(path), "mkfifo made no FIFO");
        return path;
    }

    /** A character device with /dev/null's numbers (1, 3) at {@code path}; skips the test unless root may make one. */
    public static Path nullDevice(Path path) throws IOException {
        assumeTrue(run("mknod", path.toString(), "c", "1", "3"), "mknod is not permitted here (needs root)");
        assumeTrue(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "mknod made no device node");
        return path;
    }

    /** The kind of file at {@code path} as {@code stat} prints it (e.g. "fifo", "character special file"). */
    public static String statType(Path path) throws IOException {
        Process p = new ProcessBuilder("stat", "-c", "%F", path.toString()).redirectErrorStream(true).start();
        try {
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    /** A tmpfs of {@code kilobytes} mounted at {@code dir} (made if missing); skips the test when mounting is not permitted. */
    public static AutoCloseable tinyFileSystem(Path dir, int kilobytes) throws IOException {
        Files.createDirectories(dir);
        assumeTrue(run("mount", "-t", "tmpfs", "-o", "size=" + kilobytes + "k", "tmpfs", dir.toString()),
                "mounting a tmpfs is not permitted here (needs root)");
        return () -> run("umount", dir.toString());
    }

    private static boolean run(String... command) throws IOException {
        try {
            Process p = new ProcessBuilder(List.of(command)).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false; // the tool is not installed
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }
}
