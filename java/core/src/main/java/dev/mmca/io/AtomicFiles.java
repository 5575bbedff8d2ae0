package dev.mmca.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes files so that readers see either the old content or the complete new content, never a
 * partial file: the content goes to a temporary file in the target's directory, is flushed to the
 * disk, and is then renamed over the target in one atomic step. On any failure the temporary file
 * is deleted and the target is left as it was.
 */
public final class AtomicFiles {
    /** Longest prefix of the target's name kept in the temporary name (file names are limited to 255 bytes). */
    private static final int MAX_NAME_PREFIX = 64;
    private static final int BUFFER_BYTES = 1 << 16;

    private AtomicFiles() {
    }

    /**
     * Writes {@code target} with what {@code body} produces. Errors thrown by {@code body} are
     * rethrown as they are, after the temporary file has been deleted.
     *
     * @throws IOException naming the path and the reason when the directory is missing, not
     *     writable, the target is a directory, or writing fails
     */
    public static void write(Path target, IoWriter body) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(body, "body");
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || absolute.getFileName() == null) {
            throw new IOException("cannot write " + target + ": expected a file path, got a root directory");
        }
        if (!Files.exists(dir)) {
            throw new IOException("cannot write " + target + ": directory " + dir + " does not exist");
        }
        if (!Files.isDirectory(dir)) {
            throw new IOException("cannot write " + target + ": " + dir + " is not a directory");
        }
        if (Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot write " + target + ": expected a file path, got an existing directory");
        }
        Path temp = createTemp(target, dir, absolute.getFileName().toString());
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(new KeepOpen(Channels.newOutputStream(channel)),
                        BUFFER_BYTES);
                body.writeTo(out);
                out.flush();
                channel.force(true);
            }
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot write " + target + ": the file system of " + dir
                        + " does not support an atomic rename", e);
            } catch (AccessDeniedException e) {
                throw new IOException("cannot write " + target + ": permission denied replacing it", e);
            }
            done = true;
        } finally {
            if (!done) {
                deleteQuietly(temp);
            }
        }
        syncDirectory(dir);
    }

    private static Path createTemp(Path target, Path dir, String name) throws IOException {
        String prefix = "." + (name.length() > MAX_NAME_PREFIX ? name.substring(0, MAX_NAME_PREFIX) : name) + ".";
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve(prefix + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                // CREATE_NEW with default permissions, so the final file gets the usual mode (umask applies).
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return temp;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 16) {
                    throw new IOException("cannot write " + target + ": could not create a temporary file in " + dir,
                            e);
                }
            } catch (AccessDeniedException e) {
                throw new IOException("cannot write " + target + ": directory " + dir + " is not writable"
                        + " (permission denied)", e);
            } catch (NoSuchFileException e) {
                throw new IOException("cannot write " + target + ": directory " + dir + " does not exist", e);
            } catch (IOException e) {
                throw new IOException("cannot write " + target + ": could not create a temporary file in " + dir
                        + " (" + e + ")", e);
            }
        }
    }

    private static void deleteQuietly(Path temp) {
        try {
            Files.deleteIfExists(temp);
        } catch (IOException ignored) {
            // The original failure is what the caller needs to see.
        }
    }

    /** Makes the rename durable; not possible on every platform (e.g. Windows), where it is skipped. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // Best effort: the data itself was forced before the rename.
        }
    }

    /** Lets the body close its stream without closing the channel before it is forced. */
    private static final class KeepOpen extends FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
