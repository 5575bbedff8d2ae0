package dev.mmca.io;

import dev.mmca.FloatTensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.CharBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes the safetensors format: an 8-byte little-endian header length {@code n}, then
 * {@code n} bytes of UTF-8 JSON ({@code {"name": {"dtype", "shape", "data_offsets": [begin, end]},
 * "__metadata__": {string: string}}}), then the data area, which the tensors' byte ranges must
 * cover exactly, without gaps or overlaps.
 *
 * <p>Reading accepts F32, F16 and BF16 (converted to float32 exactly) and F64 (rounded to
 * float32); every header field is checked against the file's size before anything is allocated.
 * Writing produces F32.
 */
public final class Safetensors {
    /** Largest header accepted, as in the reference implementation. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Largest tensor accepted: the element limit of a Java array (and of {@link FloatTensor}). */
    public static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    static final String METADATA_KEY = "__metadata__";
    private static final Set<String> TENSOR_FIELDS = Set.of("dtype", "shape", "data_offsets");

    private Safetensors() {
    }

    /** One tensor's header entry, validated. */
    private static final class Entry {
        final String name;
        final String dtype;
        final int[] shape;
        final int elements;
        final long begin;
        final long end;

        Entry(String name, String dtype, int[] shape, int elements, long begin, long end) {
            this.name = name;
            this.dtype = dtype;
            this.shape = shape;
            this.elements = elements;
            this.begin = begin;
            this.end = end;
        }
    }

    /**
     * Reads a whole file.
     *
     * @throws MalformedFileException when the content is not a valid safetensors file, or holds a
     *     dtype other than F32, F16, BF16, F64, or a tensor of more than 2^31-9 elements
     * @throws HeapLimitException when the tensors declared need more than the heap can still hold
     *     (checked before any of them is allocated)
     * @throws IOException when the file cannot be opened or read (missing, permissions, not a regular
     *     file, I/O error); the message names the path and the reason
     */
    public static SafetensorsFile read(Path file) throws IOException {
        return read(file, null);
    }

    /**
     * Reads a whole file as {@link #read(Path)} does, and feeds every byte of it, in file order, to
     * {@code digest} (when not null) while reading: a content hash at no extra I/O (tensors are read in
     * the order of their offsets). When the read fails the digest's state is unspecified.
     */
    public static SafetensorsFile read(Path file, MessageDigest digest) throws IOException {
        Objects.requireNonNull(file, "file");
        try (FileChannel channel = FileChecks.openForReading(file)) {
            ChunkedIo io = new ChunkedIo(channel, file, digest);
            Parsed parsed = parse(file, channel, io);
            long total = 0;
            Entry largest = null;
            for (Entry e : parsed.entries) {
                total += (long) e.elements * Float.BYTES;
                if (largest == null || e.elements > largest.elements) {
                    largest = e;
                }
            }
            if (largest != null) {
                HeapCheck.require(file, parsed.entries.size() == 1 ? describe(largest) + " as float32"
                        : parsed.entries.size() + " tensors as float32 (the largest " + describe(largest) + ")", total);
            }
            io.reserve(parsed.dataLength);
            List<Entry> byOffset = new ArrayList<>(parsed.entries);
            byOffset.sort(Comparator.comparingLong(e -> e.begin));
            Map<String, FloatTensor> read = new HashMap<>();
            for (Entry entry : byOffset) {
                float[] values = HeapCheck.floats(file, describe(entry) + " as float32", entry.elements);
                long at = parsed.dataStart + entry.begin;
                switch (entry.dtype) {
                    case "F32": io.readF32(at, values); break;
                    case "F16": io.readHalf(at, values, false); break;
                    case "BF16": io.readHalf(at, values, true); break;
                    case "F64": io.readF64AsF32(at, values); break;
                    default: throw new IllegalStateException("unchecked dtype " + entry.dtype);
                }
                read.put(entry.name, FloatTensor.of(values, entry.shape));
            }
            io.finishDigest(parsed.dataStart + parsed.dataLength);
            Map<String, FloatTensor> tensors = new LinkedHashMap<>();
            for (Entry entry : parsed.entries) {
                tensors.put(entry.name, read.get(entry.name));
            }
            return new SafetensorsFile(tensors, parsed.metadata);
        }
    }

    /**
     * Reads and checks only the header: every tensor's dtype, shape and byte range against the file's
     * size, exactly as {@link #read(Path)} does, without reading or allocating the data. For deciding
     * whether a file is complete and what it holds at the cost of its first bytes.
     *
     * @throws MalformedFileException when the header is not valid or does not match the file's size
     * @throws IOException when the file cannot be opened or read
     */
    public static SafetensorsHeader readHeader(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        try (FileChannel channel = FileChecks.openForReading(file)) {
            Parsed parsed = parse(file, channel, new ChunkedIo(channel, file, null));
            Map<String, SafetensorsHeader.TensorInfo> infos = new LinkedHashMap<>();
            for (Entry e : parsed.entries) {
                infos.put(e.name, new SafetensorsHeader.TensorInfo(e.dtype, e.shape, e.begin, e.end));
            }
            return new SafetensorsHeader(infos, parsed.metadata, parsed.dataStart + parsed.dataLength);
        }
    }

    private static String describe(Entry e) {
        return "tensor '" + e.name + "' " + e.dtype + " " + Arrays.toString(e.shape);
    }

    /** A validated header: entries in header order, metadata, and where the data area lies. */
    private static final class Parsed {
        final List<Entry> entries;
        final Map<String, String> metadata;
        final long dataStart;
        final long dataLength;

        Parsed(List<Entry> entries, Map<String, String> metadata, long dataStart, long dataLength) {
            this.entries = entries;
            this.metadata = metadata;
            this.dataStart = dataStart;
            this.dataLength = dataLength;
        }
    }

    private static Parsed parse(Path file, FileChannel channel, ChunkedIo io) throws IOException {
        long size = channel.size();
        if (size < 8) {
            throw new MalformedFileException(file, "expected a safetensors file of at least 8 bytes (the header"
                    + " length), got " + size + " bytes");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        io.readFully(lengthBytes, 0);
        long headerLength = lengthBytes.getLong(0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new MalformedFileException(file, "header length: expected at most " + MAX_HEADER_BYTES
                    + " bytes, got " + Long.toUnsignedString(headerLength));
        }
        if (headerLength > size - 8) {
            throw new MalformedFileException(file, "header length: " + headerLength + " bytes goes past the end"
                    + " of the file (expected at most " + (size - 8) + " for a file of " + size + " bytes)");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        io.readFully(headerBytes, 8);
        Map<String, Object> header = parseHeader(file, headerBytes);

        long dataStart = 8 + headerLength;
        long dataLength = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, Object> e : header.entrySet()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = parseMetadata(file, e.getValue());
            } else {
                entries.add(parseEntry(file, e.getKey(), e.getValue(), dataLength));
            }
        }
        checkCoverage(file, entries, dataLength);
        return new Parsed(entries, metadata, dataStart, dataLength);
    }

    private static Map<String, Object> parseHeader(Path file, ByteBuffer bytes) throws MalformedFileException {
        bytes.flip();
        String text;
        try {
            CharBuffer chars = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes);
            text = chars.toString();
        } catch (CharacterCodingException e) {
            throw new MalformedFileException(file, "header: expected UTF-8 JSON text, got invalid UTF-8 (" + e + ")");
        }
        if (text.isEmpty() || text.charAt(0) != '{') {
            throw new MalformedFileException(file, "header: expected a JSON object starting with '{', got "
                    + (text.isEmpty() ? "an empty header" : "'" + abbreviate(text) + "'"));
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.SyntaxException e) {
            throw new MalformedFileException(file, "header: expected valid JSON, " + e.getMessage());
        }
        if (!(root instanceof Map)) {
            throw new MalformedFileException(file, "header: expected a JSON object, got " + Json.typeName(root));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = (Map<String, Object>) root;
        return map;
    }

    private static Map<String, String> parseMetadata(Path file, Object value) throws MalformedFileException {
        Map<String, String> metadata = new LinkedHashMap<>();
        if (value == Json.NULL) {
            return metadata;
        }
        if (!(value instanceof Map)) {
            throw new MalformedFileException(file, METADATA_KEY + ": expected an object of strings, got "
                    + Json.typeName(value));
        }
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
            if (!(e.getValue() instanceof String)) {
                throw new MalformedFileException(file, METADATA_KEY + "." + e.getKey() + ": expected a string, got "
                        + Json.typeName(e.getValue()));
            }
            metadata.put((String) e.getKey(), (String) e.getValue());
        }
        return metadata;
    }

    private static Entry parseEntry(Path file, String name, Object value, long dataLength)
            throws MalformedFileException {
        String where = "tensor '" + name + "'";
        if (!(value instanceof Map)) {
            throw new MalformedFileException(file, where + ": expected an object with dtype, shape and data_offsets,"
                    + " got " + Json.typeName(value));
        }
        Map<?, ?> info = (Map<?, ?>) value;
        for (Object key : info.keySet()) {
            if (!TENSOR_FIELDS.contains(key)) {
                throw new MalformedFileException(file, where + ": expected only the fields dtype, shape and"
                        + " data_offsets, got an unknown field '" + key + "'");
            }
        }
        for (String field : List.of("dtype", "shape", "data_offsets")) {
            if (!info.containsKey(field)) {
                throw new MalformedFileException(file, where + ": missing the field '" + field + "'");
            }
        }
        Object dtypeValue = info.get("dtype");
        if (!(dtypeValue instanceof String)) {
            throw new MalformedFileException(file, where + ": dtype: expected a string, got "
                    + Json.typeName(dtypeValue));
        }
        String dtype = (String) dtypeValue;
        int elementBytes = elementBytes(dtype);
        if (elementBytes == 0) {
            throw new MalformedFileException(file, where + ": dtype " + abbreviate(dtype) + " is not supported"
                    + " (expected F32, F16, BF16 or F64)");
        }

        Object shapeValue = info.get("shape");
        if (!(shapeValue instanceof List)) {
            throw new MalformedFileException(file, where + ": shape: expected an array of sizes, got "
                    + Json.typeName(shapeValue));
        }
        List<?> dims = (List<?>) shapeValue;
        if (dims.isEmpty()) {
            throw new MalformedFileException(file, where + ": shape: expected at least one dimension, got [] (scalar"
                    + " tensors are not supported)");
        }
        int[] shape = new int[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Long d = nonNegativeInteger(dims.get(i));
            if (d == null || d > Integer.MAX_VALUE) {
                throw new MalformedFileException(file, where + ": shape[" + i + "]: expected an integer in 0.."
                        + Integer.MAX_VALUE + ", got " + Json.typeName(dims.get(i)));
            }
            shape[i] = (int) (long) d;
        }
        // Checked as FloatTensor checks it: every leading partial product must stay within the limit.
        long elements = 1;
        for (int d : shape) {
            elements *= d; // no overflow: elements <= MAX_ELEMENTS and d < 2^31 before each step
            if (elements > MAX_ELEMENTS) {
                throw new MalformedFileException(file, where + ": shape " + Arrays.toString(shape)
                        + ": expected at most 2^31-9 elements, got more");
            }
        }

        Object offsetsValue = info.get("data_offsets");
        if (!(offsetsValue instanceof List) || ((List<?>) offsetsValue).size() != 2) {
            throw new MalformedFileException(file, where + ": data_offsets: expected an array [begin, end], got "
                    + (offsetsValue instanceof List ? "an array of " + ((List<?>) offsetsValue).size() + " values"
                    : Json.typeName(offsetsValue)));
        }
        List<?> offsets = (List<?>) offsetsValue;
        Long begin = nonNegativeInteger(offsets.get(0));
        Long end = nonNegativeInteger(offsets.get(1));
        if (begin == null || end == null || begin > end) {
            throw new MalformedFileException(file, where + ": data_offsets: expected integers 0 <= begin <= end, got ["
                    + offsets.get(0) + ", " + offsets.get(1) + "]");
        }
        if (end > dataLength) {
            throw new MalformedFileException(file, where + ": data_offsets [" + begin + ", " + end + "] lie outside"
                    + " the data area (expected end <= " + dataLength + ", the data area's size)");
        }
        long expectedBytes = elements * elementBytes;
        if (end - begin != expectedBytes) {
            throw new MalformedFileException(file, where + ": expected " + expectedBytes + " bytes for " + dtype
                    + " shape " + Arrays.toString(shape) + ", got data_offsets [" + begin + ", " + end + "] ("
                    + (end - begin) + " bytes)");
        }
        return new Entry(name, dtype, shape, (int) elements, begin, end);
    }

    /** Bytes per element of the dtypes this reader converts; 0 for any other. */
    private static int elementBytes(String dtype) {
        switch (dtype) {
            case "F32": return 4;
            case "F16":
            case "BF16": return 2;
            case "F64": return 8;
            default: return 0;
        }
    }

    private static Long nonNegativeInteger(Object value) {
        if (!(value instanceof Json.Number)) {
            return null;
        }
        Long v = ((Json.Number) value).longValueExact();
        return v == null || v < 0 ? null : v;
    }

    /** The byte ranges must tile the data area: sorted, each begins where the previous ended, the last ends at its end. */
    private static void checkCoverage(Path file, List<Entry> entries, long dataLength) throws MalformedFileException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.<Entry>comparingLong(e -> e.begin).thenComparingLong(e -> e.end));
        long expected = 0;
        Entry previous = null;
        for (Entry e : sorted) {
            if (e.begin != expected) {
                String relation = e.begin < expected ? "overlaps" : "leaves a gap after";
                throw new MalformedFileException(file, "tensor '" + e.name + "': data_offsets [" + e.begin + ", "
                        + e.end + "] " + relation + " " + (previous == null ? "the start of the data area"
                        : "tensor '" + previous.name + "' [" + previous.begin + ", " + previous.end + "]")
                        + " (expected begin " + expected + "; tensors must cover the data area contiguously)");
            }
            expected = e.end;
            previous = e;
        }
        if (expected != dataLength) {
            throw new MalformedFileException(file, "data area: expected the tensors to cover all " + dataLength
                    + " bytes after the header, got " + expected + " bytes covered");
        }
    }

    private static String abbreviate(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < t.length(); i++) {
            char c = t.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c));
        }
        return sb.toString();
    }

    /**
     * Writes {@code tensors} (in the map's order) as F32 with {@code metadata} as {@code __metadata__}
     * (omitted when empty or null), atomically: either the complete file appears or nothing changes.
     *
     * @throws IllegalArgumentException for a null or reserved name ({@code __metadata__}), a null tensor,
     *     a null metadata key or value, or a name that is not valid Unicode
     * @throws IOException naming the path when it cannot be written
     */
    public static void write(Path file, Map<String, FloatTensor> tensors, Map<String, String> metadata)
            throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(tensors, "tensors");
        List<Map.Entry<String, FloatTensor>> list = new ArrayList<>(tensors.entrySet());
        StringBuilder json = new StringBuilder("{");
        if (metadata != null && !metadata.isEmpty()) {
            Json.quote(json, METADATA_KEY);
            json.append(":{");
            boolean first = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("metadata: expected non-null keys and values, got "
                            + e.getKey() + "=" + e.getValue());
                }
                if (!first) {
                    json.append(',');
                }
                first = false;
                Json.quote(json, e.getKey());
                json.append(':');
                Json.quote(json, e.getValue());
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, FloatTensor> e : list) {
            String name = e.getKey();
            if (name == null || name.equals(METADATA_KEY)) {
                throw new IllegalArgumentException("tensors: expected tensor names other than null and "
                        + METADATA_KEY + ", got " + name);
            }
            FloatTensor t = e.getValue();
            if (t == null) {
                throw new IllegalArgumentException("tensors: expected a tensor for '" + name + "', got null");
            }
            long bytes = (long) t.size() * Float.BYTES;
            if (json.length() > 1) {
                json.append(',');
            }
            Json.quote(json, name);
            json.append(":{\"dtype\":\"F32\",\"shape\":[");
            int[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            json.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        json.append('}');
        byte[] headerBytes = encodeUtf8(json);
        // The header is padded with spaces so that the data area starts 8-byte aligned.
        int padded = (headerBytes.length + 7) & ~7;
        if (padded > MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("tensors: expected a header of at most " + MAX_HEADER_BYTES
                    + " bytes, got " + padded);
        }
        byte[] prefix = new byte[8 + padded];
        ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        System.arraycopy(headerBytes, 0, prefix, 8, headerBytes.length);
        Arrays.fill(prefix, 8 + headerBytes.length, prefix.length, (byte) ' ');
        AtomicFiles.write(file, out -> {
            out.write(prefix);
            for (Map.Entry<String, FloatTensor> e : list) {
                ChunkedIo.writeF32(out, e.getValue());
            }
        });
    }

    private static byte[] encodeUtf8(CharSequence text) {
        try {
            ByteBuffer b = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("tensors/metadata: expected names and values that are valid Unicode"
                    + " (no unpaired surrogates), got " + e);
        }
    }
}
