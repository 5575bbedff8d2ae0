package dev.mmca.io;

import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes the content of a file to a stream; used by {@link AtomicFiles#write}. The stream is
 * buffered; closing it is allowed and does nothing beyond flushing.
 */
@FunctionalInterface
public interface IoWriter {
    void writeTo(OutputStream out) throws IOException;
}
