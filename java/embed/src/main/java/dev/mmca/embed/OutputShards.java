package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.io.Safetensors;
import dev.mmca.io.SafetensorsHeader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** Writes output shards atomically and recognises complete ones, so a re-run skips finished work. */
final class OutputShards {
    private OutputShards() {
    }

    /**
     * Writes one output shard (temporary file, then rename: a reader never sees part of it).
     *
     * @param visualOut {@code [records, visualTokens, dim]}, zero at padded positions
     * @param textOut {@code [records, textTokens, dim]}, zero at padded positions
     */
    static void write(Path file, InputShard shard, float[] visualOut, float[] textOut, Map<String, String> metadata)
            throws IOException {
        int r = shard.size();
        int[] vl = new int[r];
        int[] tl = new int[r];
        for (int i = 0; i < r; i++) {
            vl[i] = shard.records.get(i).visualLength();
            tl[i] = shard.records.get(i).textLength();
        }
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put(ShardFormat.VISUAL_OUT, FloatTensor.of(visualOut, r, shard.visualTokens, shard.dim));
        tensors.put(ShardFormat.TEXT_OUT, FloatTensor.of(textOut, r, shard.textTokens, shard.dim));
        tensors.put(ShardFormat.VISUAL_MASK, maskOf(vl, shard.visualTokens));
        tensors.put(ShardFormat.TEXT_MASK, maskOf(tl, shard.textTokens));
        Map<String, String> meta = new LinkedHashMap<>(metadata);
        meta.put(ShardFormat.META_FORMAT, ShardFormat.FORMAT_VERSION);
        meta.put(ShardFormat.META_RECORDS, Integer.toString(r));
        Safetensors.write(file, tensors, meta);
    }

    /** A float 0/1 prefix mask {@code [lengths.length, tokens]}. */
    static FloatTensor maskOf(int[] lengths, int tokens) {
        float[] m = new float[lengths.length * tokens];
        for (int r = 0; r < lengths.length; r++) {
            java.util.Arrays.fill(m, r * tokens, r * tokens + lengths[r], 1f);
        }
        return FloatTensor.of(m, lengths.length, tokens);
    }

    /**
     * Whether {@code output} is a complete output of {@code input} as it is now, made with the same
     * model: read from its header alone, it is a complete file (its tensors cover the file exactly),
     * says it holds {@code records} records (the input's count) in every tensor, and records the same
     * format, weights and config as {@code made}; and then the input's content hash, streamed from the
     * input, equals the one it records. Anything else, an unreadable output included, means the shard
     * is to be redone.
     *
     * @param made the metadata this run would write (format, weights, config), without the input hash
     */
    static boolean isComplete(Path output, Path input, int records, Map<String, String> made) {
        if (records < 0 || !Files.isRegularFile(output, LinkOption.NOFOLLOW_LINKS)) {
            return false;
        }
        try {
            SafetensorsHeader h = Safetensors.readHeader(output);
            Map<String, String> m = h.metadata();
            if (!ShardFormat.FORMAT_VERSION.equals(m.get(ShardFormat.META_FORMAT))
                    || !Integer.toString(records).equals(m.get(ShardFormat.META_RECORDS))) {
                return false;
            }
            for (String key : new String[] {ShardFormat.META_WEIGHTS_SHA256, ShardFormat.META_CONFIG}) {
                if (!Objects.equals(made.get(key), m.get(key))) {
                    return false;
                }
            }
            for (String name : new String[] {ShardFormat.VISUAL_OUT, ShardFormat.TEXT_OUT, ShardFormat.VISUAL_MASK,
                    ShardFormat.TEXT_MASK}) {
                SafetensorsHeader.TensorInfo t = h.tensors().get(name);
                if (t == null || !"F32".equals(t.dtype()) || t.shape().length == 0 || t.shape()[0] != records) {
                    return false;
                }
            }
            String recorded = m.get(ShardFormat.META_INPUT_SHA256);
            return recorded != null && recorded.equals(Provenance.input(input));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
