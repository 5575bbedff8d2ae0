package dev.mmca.embed;

import dev.mmca.io.Safetensors;
import dev.mmca.io.SafetensorsHeader;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Reads only the record count of an input shard from its header (the first dimension of
 * {@code visual}), so a run can plan and show progress without reading every shard twice.
 * Anything unexpected gives -1; the full read later reports the actual problem.
 */
final class ShardHeader {
    private ShardHeader() {
    }

    /** The number of records in the shard, or -1 when the header cannot be read. */
    static int records(Path shard) {
        if (NpyShards.isNpyShard(shard)) {
            return NpyShards.records(shard);
        }
        try {
            SafetensorsHeader.TensorInfo visual = Safetensors.readHeader(shard).tensors().get(ShardFormat.VISUAL);
            return visual == null || visual.shape().length == 0 ? -1 : visual.shape()[0];
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
