package dev.mmca.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
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
     * rethrown as they are, after the temporary file has been deleted; a failure of the file itself
     * (a full disk, an I/O error) reaches the body, and so the caller, as an {@link IOException} that
     * names the target, the temporary file and the system's reason.
     *
     * @throws IOException naming the path and the reason when the directory is missing, not
     *     writable, the target is a directory or a special file (see {@link #checkTarget}), or writing fails
     */
    public static void write(Path target, IoWriter body) throws IOException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(body, "body");
        checkTarget(target);
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        Path temp = createTemp(target, dir, absolute.getFileName().toString());
        boolean done = false;
        try {
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(new KeepOpen(Channels.newOutputStream(channel), target,
                        temp), BUFFER_BYTES);
                body.writeTo(out);
                out.flush();
                try {
                    channel.force(true);
                } catch (ClosedChannelException e) {
                    throw e;
                } catch (IOException e) {
                    throw failure(target, temp, "forcing to the disk", e);
                }
            }
            // The target may have been replaced by a special file while the body ran.
            checkTarget(target);
            try {
                Files.move(temp, absolute, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException("cannot write " + target + ": the file system of " + dir
                        + " does not support an atomic rename", e);
            } catch (AccessDeniedException e) {
                throw new IOException("cannot write " + target + ": permission denied replacing it", e);
            } catch (IOException e) {
                throw failure(target, temp, "renaming over the target", e);
            }
            done = true;
        } finally {
            if (!done) {
                deleteQuietly(temp);
            }
        }
        syncDirectory(dir);
    }

    /**
     * The checks {@link #write} makes before it writes anything (see
     * {@link FileChecks#requireReplaceableTarget}): for callers that want to refuse a target before
     * doing the work whose result goes there. An existing symbolic link, FIFO, device or socket is
     * refused rather than replaced.
     */
    public static void checkTarget(Path target) throws IOException {
        FileChecks.requireReplaceableTarget(target);
    }

    private static IOException failure(Path target, Path temp, String doing, IOException e) {
        String reason = e instanceof FileSystemException f && f.getReason() != null ? f.getReason() : e.getMessage();
        return new IOException("cannot write " + target + ": " + (reason == null ? e.getClass().getSimpleName()
                : reason) + " (" + doing + "; temporary file " + temp + "; the target is left as it was)", e);
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

    /**
     * Lets the body close its stream without closing the channel before it is forced, and gives a failed
     * write (e.g. "No space left on device") the target's name and the temporary file's. An interrupted
     * write (the channel closed under it) is passed on as it is.
     */
    static final class KeepOpen extends FilterOutputStream {
        private final Path target;
        private final Path temp;
        private long written;

        KeepOpen(OutputStream out, Path target, Path temp) {
            super(out);
            this.target = target;
            this.temp = temp;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            try {
                out.write(b, off, len);
            } catch (ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                throw failure(target, temp, "writing " + len + " bytes at offset " + written, e);
            }
            written += len;
        }

        @Override
        public void flush() throws IOException {
            try {
                out.flush();
            } catch (ClosedChannelException e) {
                throw e;
            } catch (IOException e) {
                throw failure(target, temp, "flushing after " + written + " bytes", e);
            }
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
