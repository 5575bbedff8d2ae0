package dev.mmca.spark;

import dev.mmca.embed.EmbedRecord;
import dev.mmca.embed.ShardRecords;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Input shards as a {@code Dataset<Row>} of {@code shard} (file name), {@code record} (index in
 * the shard), {@code visual} and {@code text} ({@code array<array<float>>}). The shards are read
 * on the driver, which suits examples and tests; a large data set belongs in a distributed format
 * (e.g. Parquet with the same two token columns).
 */
public final class ShardRows {
    public static final StructType SCHEMA = new StructType()
            .add("shard", DataTypes.StringType, false)
            .add("record", DataTypes.IntegerType, false)
            .add("visual", MmcaEmbeddings.TOKENS, false)
            .add("text", MmcaEmbeddings.TOKENS, false);

    private ShardRows() {
    }

    public static Dataset<Row> read(SparkSession spark, List<Path> shards, int partitions) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (Path shard : shards) {
            List<EmbedRecord> records = ShardRecords.readInput(shard);
            for (int i = 0; i < records.size(); i++) {
                EmbedRecord r = records.get(i);
                int dim = r.visualLength() > 0 ? r.visual().length / r.visualLength()
                        : r.textLength() > 0 ? r.text().length / r.textLength() : 1;
                rows.add(RowFactory.create(shard.getFileName().toString(), i, RowTokens.toTokens(r.visual(), dim),
                        RowTokens.toTokens(r.text(), dim)));
            }
        }
        return spark.createDataFrame(rows, SCHEMA).repartition(partitions);
    }
}
