package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.io.MalformedFileException;
import dev.mmca.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Reads an input shard (see {@link ShardFormat}) and splits it into records. Every problem is a
 * {@link MalformedFileException} naming the file, the tensor, the record and what was expected,
 * so one bad shard fails alone and clearly.
 */
final class ShardReader {
    private ShardReader() {
    }

    /** Reads and validates {@code path} for a model of width {@code dim}. */
    static InputShard read(Path path, int dim) throws IOException {
        return read(path, dim, null);
    }

    /**
     * Reads and validates {@code path} for a model of width {@code dim}, feeding {@code digest} (may be
     * null) the shard's input hash (see {@link Provenance}) while reading.
     */
    static InputShard read(Path path, int dim, MessageDigest digest) throws IOException {
        if (NpyShards.isNpyShard(path)) {
            return fromTensors(path, NpyShards.read(path, digest), dim);
        }
        return fromTensors(path, Safetensors.read(path, digest).tensors(), dim);
    }

    /** Validates the tensors of a shard and splits them into records (views of the tensors' arrays). */
    static InputShard fromTensors(Path path, Map<String, FloatTensor> tensors, int dim)
            throws MalformedFileException {
        FloatTensor visual = need(path, tensors, ShardFormat.VISUAL, dim);
        FloatTensor text = need(path, tensors, ShardFormat.TEXT, dim);
        int records = visual.dim(0);
        if (text.dim(0) != records) {
            throw new MalformedFileException(path, "tensor '" + ShardFormat.TEXT + "': expected " + records
                    + " records (as '" + ShardFormat.VISUAL + "'), got shape " + Arrays.toString(text.shape()));
        }
        int nv = visual.dim(1);
        int nt = text.dim(1);
        int[] visualLengths = lengths(path, tensors.get(ShardFormat.VISUAL_MASK), ShardFormat.VISUAL_MASK, records, nv);
        int[] textLengths = lengths(path, tensors.get(ShardFormat.TEXT_MASK), ShardFormat.TEXT_MASK, records, nt);
        // Safetensors.read gives heap tensors: read their arrays in place rather than copying them.
        float[] v = visual.hasArray() ? visual.array() : visual.toArray();
        float[] t = text.hasArray() ? text.array() : text.toArray();
        List<EmbedRecord> list = new ArrayList<>(records);
        for (int r = 0; r < records; r++) {
            checkFinite(path, ShardFormat.VISUAL, v, r, nv, visualLengths[r], dim);
            checkFinite(path, ShardFormat.TEXT, t, r, nt, textLengths[r], dim);
            list.add(new EmbedRecord(v, r * nv * dim, visualLengths[r], t, r * nt * dim, textLengths[r], dim));
        }
        return new InputShard(path, nv, nt, dim, List.copyOf(list));
    }

    private static FloatTensor need(Path path, Map<String, FloatTensor> tensors, String name, int dim)
            throws MalformedFileException {
        FloatTensor t = tensors.get(name);
        if (t == null) {
            throw new MalformedFileException(path, "expected a tensor '" + name + "' [records, tokens, " + dim
                    + "], found tensors " + new TreeSet<>(tensors.keySet()));
        }
        int[] s = t.shape();
        if (s.length != 3) {
            throw new MalformedFileException(path, "tensor '" + name + "': expected shape [records, tokens, " + dim
                    + "], got " + Arrays.toString(s));
        }
        if (s[2] != dim) {
            throw new MalformedFileException(path, "tensor '" + name + "': expected last dimension " + dim
                    + " (the model's dim), got shape " + Arrays.toString(s));
        }
        return t;
    }

    /** Per-record lengths from a prefix mask; a missing mask means every token is real. */
    private static int[] lengths(Path path, FloatTensor mask, String name, int records, int tokens)
            throws MalformedFileException {
        int[] lengths = new int[records];
        if (mask == null) {
            Arrays.fill(lengths, tokens);
            return lengths;
        }
        int[] s = mask.shape();
        if (s.length != 2 || s[0] != records || s[1] != tokens) {
            throw new MalformedFileException(path, "tensor '" + name + "': expected shape [" + records + ", " + tokens
                    + "], got " + Arrays.toString(s));
        }
        float[] m = mask.toArray();
        for (int r = 0; r < records; r++) {
            int len = 0;
            boolean padding = false;
            for (int i = 0; i < tokens; i++) {
                float x = m[r * tokens + i];
                if (x != 0f && x != 1f) {
                    throw new MalformedFileException(path, "tensor '" + name + "': record " + r + ", token " + i
                            + ": expected 0 or 1, got " + x);
                }
                if (x == 1f) {
                    if (padding) {
                        throw new MalformedFileException(path, "tensor '" + name + "': record " + r
                                + ": expected real tokens first and padding after (a prefix mask), got a 1 at token "
                                + i + " after a 0");
                    }
                    len++;
                } else {
                    padding = true;
                }
            }
            lengths[r] = len;
        }
        return lengths;
    }

    /** Real tokens must be finite; padding is never read, so it may hold anything. */
    private static void checkFinite(Path path, String name, float[] all, int record, int tokens, int length, int dim)
            throws MalformedFileException {
        int from = record * tokens * dim;
        int to = from + length * dim;
        for (int i = from; i < to; i++) {
            if (!Float.isFinite(all[i])) {
                throw new MalformedFileException(path, "tensor '" + name + "': record " + record + ", token "
                        + ((i - from) / dim) + ": expected finite values, got " + all[i]);
            }
        }
    }
}
