package dev.mmca.embed;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads only the record count of an input shard from its safetensors header (the first dimension
 * of {@code visual}), so a run can plan and show progress without reading every shard twice.
 * Anything unexpected gives -1; the full read later reports the actual problem.
 */
final class ShardHeader {
    private static final int MAX_HEADER = 1 << 20;
    private static final Pattern VISUAL_SHAPE = Pattern.compile(
            "\"" + ShardFormat.VISUAL + "\"\\s*:\\s*\\{[^}]*?\"shape\"\\s*:\\s*\\[\\s*(\\d+)");

    private ShardHeader() {
    }

    /** The number of records in the shard, or -1 when the header cannot be read. */
    static int records(Path shard) {
        if (NpyShards.isNpyShard(shard)) {
            return NpyShards.records(shard);
        }
        try (FileChannel ch = FileChannel.open(shard, StandardOpenOption.READ)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            if (ch.read(len, 0) != 8) {
                return -1;
            }
            long n = len.getLong(0);
            if (n <= 0 || n > MAX_HEADER || n > ch.size() - 8) {
                return -1;
            }
            ByteBuffer header = ByteBuffer.allocate((int) n);
            while (header.hasRemaining()) {
                if (ch.read(header, 8 + header.position()) < 0) {
                    return -1;
                }
            }
            Matcher m = VISUAL_SHAPE.matcher(new String(header.array(), StandardCharsets.UTF_8));
            if (!m.find()) {
                return -1;
            }
            long r = Long.parseLong(m.group(1));
            return r > Integer.MAX_VALUE ? -1 : (int) r;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
