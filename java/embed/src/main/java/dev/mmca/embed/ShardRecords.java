package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.io.MalformedFileException;
import dev.mmca.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Reads the records of one shard into memory, for callers that feed records elsewhere (e.g. Spark). */
public final class ShardRecords {
    private ShardRecords() {
    }

    /** The records of an input shard ({@code visual}, {@code text} and their masks), without padding. */
    public static List<EmbedRecord> readInput(Path shard) throws IOException {
        Map<String, FloatTensor> t = Safetensors.read(shard).tensors();
        return ShardReader.fromTensors(shard, t, widthOf(shard, t, ShardFormat.VISUAL)).records;
    }

    /** The records of an output shard ({@code visual_out}, {@code text_out} and their masks), without padding. */
    public static List<EmbedRecord> readOutput(Path shard) throws IOException {
        Map<String, FloatTensor> t = new java.util.HashMap<>(Safetensors.read(shard).tensors());
        FloatTensor v = t.remove(ShardFormat.VISUAL_OUT);
        FloatTensor x = t.remove(ShardFormat.TEXT_OUT);
        if (v == null || x == null) {
            throw new MalformedFileException(shard, "expected tensors '" + ShardFormat.VISUAL_OUT + "' and '"
                    + ShardFormat.TEXT_OUT + "', found " + new java.util.TreeSet<>(t.keySet()));
        }
        t.put(ShardFormat.VISUAL, v);
        t.put(ShardFormat.TEXT, x);
        return ShardReader.fromTensors(shard, t, widthOf(shard, t, ShardFormat.VISUAL)).records;
    }

    private static int widthOf(Path shard, Map<String, FloatTensor> t, String name) throws MalformedFileException {
        FloatTensor x = t.get(name);
        if (x == null || x.rank() != 3) {
            throw new MalformedFileException(shard, "expected a tensor '" + name + "' [records, tokens, dim], found "
                    + (x == null ? "none" : java.util.Arrays.toString(x.shape())));
        }
        return x.dim(2);
    }
}
