package dev.mmca.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A file that cannot be read because its content is corrupt, truncated, inconsistent or uses a
 * feature this library does not support. The message names the file, what was expected and what
 * was found.
 */
public class MalformedFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    /** {@code detail} says what was expected and what was found; the file name is prepended. */
    public MalformedFileException(Path file, String detail) {
        super(file + ": " + Objects.requireNonNull(detail, "detail"));
        this.file = file;
    }

    public MalformedFileException(Path file, String detail, Throwable cause) {
        super(file + ": " + Objects.requireNonNull(detail, "detail"), cause);
        this.file = file;
    }

    /** The file that could not be read (may be null when the exception was deserialized). */
    public Path file() {
        return file;
    }
}
