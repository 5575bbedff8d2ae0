package dev.mmca.io;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.Modality;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads and writes numpy {@code .npy} files (format versions 1.0, 2.0 and 3.0): the magic
 * {@code \x93NUMPY}, a version, a little-endian header length (2 bytes in 1.0, 4 bytes in 2.0/3.0),
 * a Python-literal header dictionary, then the raw C-order data. Supported dtypes: {@code <f4},
 * {@code <f8}, {@code |b1}, {@code |u1}; {@link #readIntegers} also reads little-endian integers (a modality
 * saved from numpy's default {@code int64}). Writers produce version 1.0 files with the header padded
 * so that the data starts 64-byte aligned, as numpy does.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** Largest header accepted (version 2.0/3.0 allow 4 GiB; real headers are tens of bytes). */
    public static final int MAX_HEADER_BYTES = 1 << 20;
    private static final int ALIGNMENT = 64;

    private Npy() {
    }

    /**
     * Reads a whole file.
     *
     * @throws MalformedFileException when the content is not a valid {@code .npy} file, is Fortran
     *     ordered, has an unsupported dtype, more than 2^31-9 elements, data of the wrong length, or
     *     {@code |b1} values other than 0 and 1
     * @throws HeapLimitException when the data declared is more than the heap can still hold (checked
     *     before it is allocated)
     * @throws IOException when the file cannot be opened or read (missing, permissions, not a regular
     *     file, I/O error); the message names the path and the reason
     */
    public static NpyArray read(Path file) throws IOException {
        return read(file, null);
    }

    /**
     * Reads a whole file of integers: {@code |u1}, {@code |i1}, {@code <i2}, {@code <u2}, {@code <i4}, {@code <u4},
     * {@code <i8} or {@code <u8} (e.g. a modality, {@link NpyArray#toModality()}), with the checks of
     * {@link #read(Path)}; another dtype is refused naming it.
     */
    public static NpyArray readIntegers(Path file) throws IOException {
        return read(file, null, true);
    }

    /**
     * Reads a whole file as {@link #read(Path)} does, and feeds every byte of it, in file order, to
     * {@code digest} (when not null) while reading: a content hash at no extra I/O. When the read fails the
     * digest's state is unspecified.
     */
    public static NpyArray read(Path file, MessageDigest digest) throws IOException {
        return read(file, digest, false);
    }

    private static NpyArray read(Path file, MessageDigest digest, boolean integers) throws IOException {
        Objects.requireNonNull(file, "file");
        try (FileChannel channel = FileChecks.openForReading(file)) {
            ChunkedIo io = new ChunkedIo(channel, file, digest);
            long size = channel.size();
            if (size < 10) {
                throw new MalformedFileException(file, "expected a .npy file of at least 10 bytes (magic, version,"
                        + " header length), got " + size + " bytes");
            }
            ByteBuffer prefix = ByteBuffer.allocate((int) Math.min(size, 12)).order(ByteOrder.LITTLE_ENDIAN);
            io.readFully(prefix, 0);
            for (int i = 0; i < MAGIC.length; i++) {
                if (prefix.get(i) != MAGIC[i]) {
                    throw new MalformedFileException(file, "expected the .npy magic \\x93NUMPY, got "
                            + hex(prefix, MAGIC.length));
                }
            }
            int major = prefix.get(6) & 0xff;
            int minor = prefix.get(7) & 0xff;
            if (minor != 0 || major < 1 || major > 3) {
                throw new MalformedFileException(file, "format version: expected 1.0, 2.0 or 3.0, got " + major + "."
                        + minor);
            }
            long headerLength;
            long headerStart;
            if (major == 1) {
                headerLength = prefix.getShort(8) & 0xffff;
                headerStart = 10;
            } else {
                if (size < 12) {
                    throw new MalformedFileException(file, "expected a version " + major + ".0 file of at least 12"
                            + " bytes, got " + size + " bytes");
                }
                headerLength = prefix.getInt(8) & 0xffffffffL;
                headerStart = 12;
                if (headerLength > MAX_HEADER_BYTES) {
                    throw new MalformedFileException(file, "header length: expected at most " + MAX_HEADER_BYTES
                            + " bytes, got " + headerLength);
                }
            }
            if (headerStart + headerLength > size) {
                throw new MalformedFileException(file, "header length: " + headerLength + " bytes goes past the end"
                        + " of the file (expected at most " + (size - headerStart) + " for a file of " + size
                        + " bytes)");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            io.readFully(headerBytes, headerStart);
            headerBytes.flip();
            NpyHeader header;
            try {
                header = NpyHeader.parse(decode(headerBytes, major, file));
            } catch (NpyHeader.HeaderException e) {
                throw new MalformedFileException(file, "header: " + e.getMessage());
            }
            NpyArray array = readData(io, file, header, headerStart + headerLength, size, integers);
            io.finishDigest(size);
            return array;
        }
    }

    private static String decode(ByteBuffer bytes, int major, Path file) throws MalformedFileException {
        // numpy writes versions 1.0 and 2.0 headers in latin-1 and 3.0 headers in UTF-8.
        try {
            return (major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(file, "header: expected UTF-8 text, got invalid UTF-8 (" + e + ")");
        }
    }

    private static NpyArray readData(ChunkedIo io, Path file, NpyHeader header, long dataStart, long size,
            boolean integers) throws IOException {
        if (header.fortranOrder) {
            throw new MalformedFileException(file, "fortran_order: expected False (C order), got True (save a"
                    + " C-contiguous array, e.g. numpy.ascontiguousarray(a))");
        }
        int itemBytes = integers ? integerBytes(header.descr) : 0;
        if (integers && itemBytes == 0) {
            throw new MalformedFileException(file, "descr: expected an integer dtype ('|u1', '|i1', '<i2', '<u2', '<i4',"
                    + " '<u4', '<i8' or '<u8'), got '" + NpyHeader.printable(header.descr) + "'");
        }
        if (!integers) {
            switch (header.descr) {
                case "<f4": itemBytes = 4; break;
                case "<f8": itemBytes = 8; break;
                case "|b1":
                case "|u1": itemBytes = 1; break;
                default:
                    throw new MalformedFileException(file, "descr: expected '<f4', '<f8', '|b1' or '|u1', got '"
                            + NpyHeader.printable(header.descr) + "'");
            }
        }
        int[] shape = new int[header.shape.length];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            long d = header.shape[i];
            if (d > Integer.MAX_VALUE) {
                throw new MalformedFileException(file, "shape[" + i + "]: expected at most " + Integer.MAX_VALUE
                        + ", got " + d);
            }
            shape[i] = (int) d;
        }
        if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
            elements = 0;
        } else {
            for (int d : shape) {
                elements *= d; // no overflow: elements <= 2^31-9 and d < 2^31 before each step
                if (elements > Safetensors.MAX_ELEMENTS) {
                    throw new MalformedFileException(file, "shape " + Arrays.toString(header.shape)
                            + ": expected at most 2^31-9 elements, got more");
                }
            }
        }
        long dataBytes = elements * itemBytes;
        long available = size - dataStart;
        if (available != dataBytes) {
            throw new MalformedFileException(file, "data: expected " + dataBytes + " bytes for " + header.descr
                    + " shape " + Arrays.toString(shape) + ", got " + available + " bytes"
                    + (available < dataBytes ? " (file truncated)" : " (unexpected trailing bytes)"));
        }
        int n = (int) elements;
        io.reserve(dataBytes);
        String what = "data " + header.descr + " " + Arrays.toString(shape);
        if (integers && !header.descr.equals("|u1")) {
            byte[] raw = HeapCheck.bytes(file, what, (int) dataBytes);
            long[] values = HeapCheck.longs(file, what + " as int64", n);
            io.readBytes(dataStart, raw);
            ByteBuffer le = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            boolean unsigned = header.descr.charAt(1) == 'u';
            for (int i = 0; i < n; i++) {
                switch (itemBytes) {
                    case 1: values[i] = raw[i]; break;
                    case 2: values[i] = unsigned ? le.getShort(2 * i) & 0xffffL : le.getShort(2 * i); break;
                    case 4: values[i] = unsigned ? le.getInt(4 * i) & 0xffffffffL : le.getInt(4 * i); break;
                    default: values[i] = le.getLong(8 * i); break;
                }
            }
            return new NpyArray(file, header.descr, shape, values);
        }
        switch (header.descr) {
            case "<f4": {
                float[] f = HeapCheck.floats(file, what, n);
                io.readF32(dataStart, f);
                return new NpyArray(file, header.descr, shape, f, null, null);
            }
            case "<f8": {
                double[] d = HeapCheck.doubles(file, what, n);
                io.readF64(dataStart, d);
                return new NpyArray(file, header.descr, shape, null, d, null);
            }
            default: {
                byte[] b = HeapCheck.bytes(file, what, n);
                io.readBytes(dataStart, b);
                if (header.descr.equals("|b1")) {
                    for (int i = 0; i < n; i++) {
                        if (b[i] != 0 && b[i] != 1) {
                            throw new MalformedFileException(file, "data: expected |b1 values 0 or 1, got "
                                    + (b[i] & 0xff) + " at flat index " + i);
                        }
                    }
                }
                return new NpyArray(file, header.descr, shape, null, null, b);
            }
        }
    }

    /** Bytes per element of a supported integer dtype, or 0. */
    private static int integerBytes(String descr) {
        switch (descr) {
            case "|u1": case "|i1": return 1;
            case "<i2": case "<u2": return 2;
            case "<i4": case "<u4": return 4;
            case "<i8": case "<u8": return 8;
            default: return 0;
        }
    }

    private static String hex(ByteBuffer b, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n && i < b.limit(); i++) {
            sb.append(String.format("\\x%02x", b.get(i) & 0xff));
        }
        return sb.toString();
    }

    /** Writes a float32 tensor as {@code <f4}, atomically. */
    public static void writeFloats(Path file, FloatTensor tensor) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensor, "tensor");
        byte[] header = header("<f4", tensor.shape());
        AtomicFiles.write(file, out -> {
            out.write(header);
            ChunkedIo.writeF32(out, tensor);
        });
    }

    /**
     * Writes {@code data} as {@code <f8} with the given shape, atomically. With no shape the array is
     * 1-D of {@code data.length}.
     *
     * @throws IllegalArgumentException when the shape has a negative size or does not match {@code data.length}
     */
    public static void writeDoubles(Path file, double[] data, int... shape) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(data, "data");
        int[] s = shape == null || shape.length == 0 ? new int[] {data.length} : shape.clone();
        long n = 1;
        for (int d : s) {
            if (d < 0) {
                throw new IllegalArgumentException("shape: expected non-negative sizes, got " + Arrays.toString(s));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("shape: expected fewer than 2^63 elements, got "
                        + Arrays.toString(s));
            }
        }
        if (n != data.length) {
            throw new IllegalArgumentException("data: expected " + n + " values for shape " + Arrays.toString(s)
                    + ", got " + data.length);
        }
        byte[] header = header("<f8", s);
        AtomicFiles.write(file, out -> {
            out.write(header);
            ChunkedIo.writeF64(out, data);
        });
    }

    /** Writes a mask as {@code |b1} of shape {@code [batch, length]}, atomically. */
    public static void writeMask(Path file, Mask mask) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(mask, "mask");
        writeBytes(file, "|b1", mask.batch(), mask.length(), mask.bytesView());
    }

    /**
     * Writes a modality as {@code |u1} of shape {@code [batch, length]} (0 padding, 1 text, 2 image), atomically;
     * {@link #readIntegers} and {@link NpyArray#toModality()} read it back.
     */
    public static void writeModality(Path file, Modality modality) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(modality, "modality");
        writeBytes(file, "|u1", modality.batch(), modality.length(), modality.bytesView());
    }

    private static void writeBytes(Path file, String descr, int batch, int length, byte[] values) throws IOException {
        byte[] header = header(descr, new int[] {batch, length});
        AtomicFiles.write(file, out -> {
            out.write(header);
            out.write(values);
        });
    }

    /** Magic, version 1.0, length and the dictionary, padded with spaces and a newline to 64 bytes. */
    private static byte[] header(String descr, int[] shape) {
        String dict = NpyHeader.format(descr, shape);
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int total = (unpadded + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        StringBuilder text = new StringBuilder(dict);
        while (MAGIC.length + 4 + text.length() + 1 < total) {
            text.append(' ');
        }
        text.append('\n');
        byte[] out = new byte[total];
        System.arraycopy(MAGIC, 0, out, 0, MAGIC.length);
        out[6] = 1;
        out[7] = 0;
        int headerLength = total - 10;
        out[8] = (byte) headerLength;
        out[9] = (byte) (headerLength >>> 8);
        byte[] ascii = text.toString().getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(ascii, 0, out, 10, ascii.length);
        return out;
    }
}
