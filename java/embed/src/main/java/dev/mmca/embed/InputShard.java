package dev.mmca.embed;

import java.nio.file.Path;
import java.util.List;

/**
 * A read and validated input shard: its records and the padded widths of its layout, which the
 * output shard keeps.
 */
final class InputShard {
    final Path path;
    final int visualTokens;
    final int textTokens;
    final int dim;
    final List<EmbedRecord> records;

    InputShard(Path path, int visualTokens, int textTokens, int dim, List<EmbedRecord> records) {
        this.path = path;
        this.visualTokens = visualTokens;
        this.textTokens = textTokens;
        this.dim = dim;
        this.records = records;
    }

    String name() {
        return path.getFileName().toString();
    }

    int size() {
        return records.size();
    }
}
