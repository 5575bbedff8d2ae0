package dev.mmca.io;

import dev.mmca.MmcaException;
import java.nio.file.Path;

/**
 * A file declares more data than this JVM can hold: its size was checked against the heap before
 * anything was allocated. The message names the file, the tensor with its shape and bytes, and the
 * limit.
 */
public class HeapLimitException extends MmcaException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long requiredBytes;
    private final long availableBytes;

    public HeapLimitException(Path file, String message, long requiredBytes, long availableBytes, Throwable cause) {
        super(message, cause);
        this.file = file;
        this.requiredBytes = requiredBytes;
        this.availableBytes = availableBytes;
    }

    /** The file whose data did not fit (may be null when not from a file, or after deserialization). */
    public Path file() {
        return file;
    }

    /** Bytes the data needs on the heap. */
    public long requiredBytes() {
        return requiredBytes;
    }

    /** Bytes the heap could still provide when it was checked. */
    public long availableBytes() {
        return availableBytes;
    }
}
