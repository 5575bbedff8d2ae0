package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.io.Safetensors;
import dev.mmca.io.SafetensorsFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

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
     * Whether {@code output} is a complete output of {@code input} for these weights: it reads as a
     * whole, says it holds {@code records} records (the input's count), was made from an input of the
     * same size with weights of the same checksum, and its tensors have that many records.
     */
    static boolean isComplete(Path output, Path input, int records, String weightsCrc32) {
        if (records < 0 || !Files.isRegularFile(output)) {
            return false;
        }
        try {
            SafetensorsFile f = Safetensors.read(output);
            Map<String, String> m = f.metadata();
            if (!ShardFormat.FORMAT_VERSION.equals(m.get(ShardFormat.META_FORMAT))
                    || !Integer.toString(records).equals(m.get(ShardFormat.META_RECORDS))
                    || !Long.toString(EmbedPipeline.inputBytes(input)).equals(m.get(ShardFormat.META_INPUT_BYTES))
                    || !weightsCrc32.equals(m.get(ShardFormat.META_WEIGHTS_CRC32))) {
                return false;
            }
            for (String name : new String[] {ShardFormat.VISUAL_OUT, ShardFormat.TEXT_OUT, ShardFormat.VISUAL_MASK,
                    ShardFormat.TEXT_MASK}) {
                FloatTensor t = f.tensors().get(name);
                if (t == null || t.dim(0) != records) {
                    return false;
                }
            }
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
