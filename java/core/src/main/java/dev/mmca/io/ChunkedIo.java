package dev.mmca.io;

import dev.mmca.FloatTensor;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Little-endian bulk reads from a {@link FileChannel} and writes to a stream, through one bounded
 * buffer: large tensors are converted chunk by chunk with {@link ByteBuffer} views, never staged
 * whole in a {@code byte[]}.
 *
 * <p>With a {@link MessageDigest}, every byte of the file goes through the digest exactly once and in
 * file order while it is read: reads that overlap what was already hashed are not hashed again, a read
 * past a stretch not read yet hashes that stretch first, and {@link #finishDigest} hashes whatever
 * the reader skipped at the end. A reader that reads its file in order therefore hashes it at no
 * extra I/O.
 */
final class ChunkedIo {
    /** Chunk size; a multiple of 8 so that no element straddles two chunks. */
    static final int CHUNK_BYTES = 1 << 20;

    private final FileChannel channel;
    private final Path file;
    private final MessageDigest digest;
    /** With a digest: bytes {@code [0, hashed)} of the file have gone through it. */
    private long hashed;

    private ByteBuffer buffer;
    private int chunk;

    /** A reader of {@code channel}; {@code digest} (may be null) receives the file's bytes. */
    ChunkedIo(FileChannel channel, Path file, MessageDigest digest) {
        this.channel = channel;
        this.file = file;
        this.digest = digest;
    }

    /** Sizes the chunk buffer for reading about {@code expectedBytes}, so that small files use little memory. */
    void reserve(long expectedBytes) {
        long rounded = (Math.max(expectedBytes, 8) + 7) & ~7L;
        int wanted = (int) Math.min(CHUNK_BYTES, rounded);
        if (buffer == null || chunk < wanted) {
            chunk = wanted;
            buffer = ByteBuffer.allocateDirect(chunk).order(ByteOrder.LITTLE_ENDIAN);
        }
    }

    /** Reads exactly {@code length} (at most {@code chunk}) bytes at {@code position}; returns the buffer. */
    private ByteBuffer fill(long position, int length) throws IOException {
        if (buffer == null) {
            reserve(length);
        }
        buffer.clear().limit(length);
        readFully(buffer, position);
        buffer.flip();
        return buffer;
    }

    /**
     * Fills the remaining space of {@code dst} from {@code position}; a file that ends first is
     * malformed (the message names the bytes expected and where the file ended).
     */
    void readFully(ByteBuffer dst, long position) throws IOException {
        if (digest != null && position > hashed) {
            hashUpTo(position);
        }
        int start = dst.position();
        int length = dst.remaining();
        long at = position;
        while (dst.hasRemaining()) {
            int n = channel.read(dst, at);
            if (n < 0) {
                throw new MalformedFileException(file, "expected " + length + " bytes at offset " + position
                        + ", but the file ended at " + at);
            }
            at += n;
        }
        long end = position + length;
        if (digest != null && end > hashed) {
            ByteBuffer fresh = dst.duplicate();
            fresh.limit(start + length).position(start + (int) (hashed - position));
            digest.update(fresh);
            hashed = end;
        }
    }

    /** Hashes the bytes from what was hashed so far up to {@code end}, which the reader did not read. */
    private void hashUpTo(long end) throws IOException {
        ByteBuffer gap = ByteBuffer.allocate((int) Math.min(1 << 16, end - hashed));
        while (hashed < end) {
            gap.clear().limit((int) Math.min(gap.capacity(), end - hashed));
            while (gap.hasRemaining()) {
                if (channel.read(gap, hashed + gap.position()) < 0) {
                    throw new MalformedFileException(file, "expected " + end + " bytes, but the file ended at "
                            + (hashed + gap.position()));
                }
            }
            gap.flip();
            digest.update(gap);
            hashed += gap.limit();
        }
    }

    /** With a digest: hashes the rest of the file up to {@code size} (the bytes no read covered). */
    void finishDigest(long size) throws IOException {
        if (digest != null && hashed < size) {
            hashUpTo(size);
        }
    }

    /** Reads {@code bytes.length} raw bytes at {@code position}. */
    void readBytes(long position, byte[] dst) throws IOException {
        for (int done = 0; done < dst.length; ) {
            int n = Math.min(chunk, dst.length - done);
            fill(position + done, n).get(dst, done, n);
            done += n;
        }
    }

    /** Reads {@code dst.length} little-endian float32 values at {@code position}. */
    void readF32(long position, float[] dst) throws IOException {
        int per = chunk / Float.BYTES;
        for (int done = 0; done < dst.length; ) {
            int n = Math.min(per, dst.length - done);
            fill(position + (long) done * Float.BYTES, n * Float.BYTES).asFloatBuffer().get(dst, done, n);
            done += n;
        }
    }

    /** Reads {@code dst.length} little-endian float64 values at {@code position}. */
    void readF64(long position, double[] dst) throws IOException {
        int per = chunk / Double.BYTES;
        for (int done = 0; done < dst.length; ) {
            int n = Math.min(per, dst.length - done);
            fill(position + (long) done * Double.BYTES, n * Double.BYTES).asDoubleBuffer().get(dst, done, n);
            done += n;
        }
    }

    /** Reads {@code dst.length} little-endian float64 values at {@code position}, rounded to float32. */
    void readF64AsF32(long position, float[] dst) throws IOException {
        int per = chunk / Double.BYTES;
        double[] tmp = new double[Math.min(per, dst.length)];
        for (int done = 0; done < dst.length; ) {
            int n = Math.min(per, dst.length - done);
            fill(position + (long) done * Double.BYTES, n * Double.BYTES).asDoubleBuffer().get(tmp, 0, n);
            for (int i = 0; i < n; i++) {
                dst[done + i] = (float) tmp[i];
            }
            done += n;
        }
    }

    /** Reads {@code dst.length} little-endian binary16 (or bfloat16) values at {@code position}, exactly. */
    void readHalf(long position, float[] dst, boolean bfloat16) throws IOException {
        int per = chunk / Short.BYTES;
        short[] tmp = new short[Math.min(per, dst.length)];
        for (int done = 0; done < dst.length; ) {
            int n = Math.min(per, dst.length - done);
            ShortBuffer sb = fill(position + (long) done * Short.BYTES, n * Short.BYTES).asShortBuffer();
            sb.get(tmp, 0, n);
            if (bfloat16) {
                for (int i = 0; i < n; i++) {
                    dst[done + i] = Float16.bfloat16ToFloat(tmp[i]);
                }
            } else {
                for (int i = 0; i < n; i++) {
                    dst[done + i] = Float16.halfToFloat(tmp[i]);
                }
            }
            done += n;
        }
    }

    /** Writes the tensor's elements as little-endian float32. */
    static void writeF32(OutputStream out, FloatTensor t) throws IOException {
        int size = t.size();
        int per = CHUNK_BYTES / Float.BYTES;
        ByteBuffer bytes = ByteBuffer.allocate(Math.min(per, Math.max(size, 1)) * Float.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        FloatBuffer floats = bytes.asFloatBuffer();
        FloatBuffer source = t.hasArray() ? null : t.buffer();
        for (int done = 0; done < size; ) {
            int n = Math.min(per, size - done);
            floats.clear();
            if (source == null) {
                floats.put(t.array(), done, n);
            } else {
                source.limit(done + n).position(done);
                floats.put(source);
            }
            out.write(bytes.array(), 0, n * Float.BYTES);
            done += n;
        }
    }

    /** Writes {@code data} as little-endian float64. */
    static void writeF64(OutputStream out, double[] data) throws IOException {
        int per = CHUNK_BYTES / Double.BYTES;
        ByteBuffer bytes = ByteBuffer.allocate(Math.min(per, Math.max(data.length, 1)) * Double.BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int done = 0; done < data.length; ) {
            int n = Math.min(per, data.length - done);
            bytes.clear();
            bytes.asDoubleBuffer().put(data, done, n);
            out.write(bytes.array(), 0, n * Double.BYTES);
            done += n;
        }
    }
}
