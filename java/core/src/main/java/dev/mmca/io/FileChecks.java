package dev.mmca.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Objects;

/**
 * The checks made on paths before they are read or replaced, with messages that name the path, what
 * was expected and what was found.
 *
 * <p>Inputs must be regular files (symbolic links to regular files are followed): opening a FIFO
 * would wait for a writer forever, and a device or a directory is not a file of tensors. Outputs
 * are written to a temporary file that is renamed over the target (see {@link AtomicFiles}), which
 * would replace whatever the target is; so an existing target must be a regular file, and a
 * symbolic link, a FIFO, a device or a socket there is refused rather than replaced.
 *
 * <p>The checks look at the path just before it is opened or renamed over; a path that another
 * process swaps for a special file in between is not detected.
 */
public final class FileChecks {
    /** File-type bits of {@code st_mode}. */
    private static final int S_IFMT = 0170000;

    private FileChecks() {
    }

    /**
     * Opens {@code file} for reading after checking that it is a regular file.
     *
     * @throws NoSuchFileException when nothing is there (or a symbolic link points nowhere)
     * @throws AccessDeniedException when it may not be read
     * @throws FileSystemException when it is a directory, a FIFO, a device or another special file
     */
    public static FileChannel openForReading(Path file) throws IOException {
        requireRegularFile(file);
        try {
            return FileChannel.open(file, StandardOpenOption.READ);
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException(file.toString(), null, "expected a readable file, got permission denied");
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "expected a file to read, found no such file");
        } catch (FileSystemException e) {
            throw new FileSystemException(file.toString(), null, "cannot open it for reading: "
                    + (e.getReason() != null ? e.getReason() : e.getMessage()));
        }
    }

    /**
     * Checks that {@code file} is an existing regular file, following symbolic links; the exceptions are
     * those of {@link #openForReading}.
     */
    public static void requireRegularFile(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            if (Files.isSymbolicLink(file)) {
                throw new NoSuchFileException(file.toString(), null, "expected a file to read, found a symbolic link"
                        + " to " + linkTarget(file) + ", which does not exist");
            }
            throw new NoSuchFileException(file.toString(), null, "expected a file to read, found no such file");
        } catch (AccessDeniedException e) {
            throw new AccessDeniedException(file.toString(), null, "expected a readable file, got permission denied");
        } catch (FileSystemException e) {
            throw new FileSystemException(file.toString(), null, "expected a file to read, got "
                    + (e.getReason() != null ? e.getReason() : e.getMessage()));
        }
        if (!a.isRegularFile()) {
            String kind = kindOf(file, true);
            throw new FileSystemException(file.toString(), null, "expected a regular file, got " + kind
                    + (a.isDirectory() ? "" : " (special files are refused: reading one may wait for a writer"
                    + " forever or never end)"));
        }
    }

    /**
     * Checks a path that {@link AtomicFiles} may write: its directory exists and is a writable directory,
     * and the path itself is either absent or an existing regular file (not a directory, not a symbolic link,
     * not a FIFO, device or socket, which the rename would replace).
     *
     * @throws IOException naming the path, what was expected and what is there
     */
    public static void requireReplaceableTarget(Path target) throws IOException {
        Objects.requireNonNull(target, "target");
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
        if (Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)
                && !Files.isRegularFile(absolute, LinkOption.NOFOLLOW_LINKS)) {
            if (Files.isDirectory(absolute, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("cannot write " + target + ": expected a file path, got an existing directory");
            }
            throw new IOException("cannot write " + target + ": expected a new path or a regular file, got an"
                    + " existing " + kindOf(absolute, false).replaceFirst("^an? ", "") + "; it is refused, not"
                    + " replaced (outputs are written to a temporary file and renamed over the target)"
                    + (Files.isSymbolicLink(absolute) ? "; give the link's target instead" : ""));
        }
        if (!Files.isWritable(dir)) {
            throw new IOException("cannot write " + target + ": directory " + dir + " is not writable"
                    + " (permission denied)");
        }
    }

    /**
     * What is at {@code path}, in words: "a regular file", "a directory", "a symbolic link to X",
     * "a FIFO (named pipe)", "a character device", "a block device", "a socket", "a special file",
     * or "nothing".
     */
    public static String kindOf(Path path, boolean followLinks) {
        LinkOption[] options = followLinks ? new LinkOption[0] : new LinkOption[] {LinkOption.NOFOLLOW_LINKS};
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(path, BasicFileAttributes.class, options);
        } catch (IOException e) {
            return "nothing";
        }
        if (a.isSymbolicLink()) {
            return "a symbolic link to " + linkTarget(path);
        }
        if (a.isRegularFile()) {
            return "a regular file";
        }
        if (a.isDirectory()) {
            return "a directory";
        }
        try {
            Object mode = Files.getAttribute(path, "unix:mode", options);
            if (mode instanceof Integer m) {
                switch (m & S_IFMT) {
                    case 0010000: return "a FIFO (named pipe)";
                    case 0020000: return "a character device";
                    case 0060000: return "a block device";
                    case 0140000: return "a socket";
                    default: break;
                }
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            // No unix view on this platform: the generic word below.
        }
        return "a special file (not a regular file, directory or link)";
    }

    private static String linkTarget(Path link) {
        try {
            return Files.readSymbolicLink(link).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "an unreadable target";
        }
    }
}
