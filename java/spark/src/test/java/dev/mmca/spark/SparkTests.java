package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.embed.EmbedRecord;
import dev.mmca.embed.SampleGenerator;
import dev.mmca.embed.ShardRecords;
import dev.mmca.parity.Precision;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** What the Spark tests share: one local[2] session per test JVM, a small sample, rows and comparisons. */
final class SparkTests {
    static final int DIM = 32;
    static final MmcaConfig CONFIG = MmcaConfig.builder().dim(DIM).heads(4).kvHeads(2).dimHead(8).build();

    private SparkTests() {
    }

    /** The test JVM's session, started on first use (or again after a test stopped it). */
    static SparkSession session() {
        return SparkSession.builder().master("local[2]").appName("mmca-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .getOrCreate();
    }

    /** A generated sample in {@code dir}: weights and input shards of records of random lengths. */
    static final class Sample {
        final Path dir;
        final String weights;
        final List<Path> shards;

        Sample(Path dir, int records, int shards, int maxVisual, int maxText, long seed) throws IOException {
            this.dir = dir;
            this.shards = new SampleGenerator(records, shards, CONFIG, maxVisual, maxText, seed).write(dir);
            this.weights = dir.resolve(SampleGenerator.WEIGHTS_FILE).toString();
        }

        Path input() {
            return dir.resolve(SampleGenerator.INPUT_DIR);
        }

        List<EmbedRecord> records() throws IOException {
            List<EmbedRecord> all = new ArrayList<>();
            for (Path s : shards) {
                all.addAll(ShardRecords.readInput(s));
            }
            return all;
        }
    }

    /**
     * One row per record: {@code id} (its index), then {@code visual} and {@code text} tokens as
     * {@code array<array<float>>}, the token width taken from each record.
     */
    static Dataset<Row> nestedRows(SparkSession spark, List<EmbedRecord> records, int partitions) {
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("visual", MmcaEmbeddings.TOKENS, true).add("text", MmcaEmbeddings.TOKENS, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            EmbedRecord r = records.get(i);
            rows.add(RowFactory.create((long) i, RowTokens.toTokens(r.visual(), r.dim()),
                    RowTokens.toTokens(r.text(), r.dim())));
        }
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    /** The same rows in the flat layout: {@code array<float>} of tokens x dim. */
    static Dataset<Row> flat(Dataset<Row> nested) {
        return nested.selectExpr("id", "flatten(visual) as visual", "flatten(text) as text");
    }

    /** A token column of a row as flat floats, whichever the layout. */
    static float[] floats(Row row, String column) {
        List<Object> outer = row.getList(row.fieldIndex(column));
        List<Float> all = new ArrayList<>();
        for (Object o : outer) {
            if (o instanceof scala.collection.Seq<?> inner) {
                for (int d = 0; d < inner.length(); d++) {
                    all.add((Float) inner.apply(d));
                }
            } else {
                all.add((Float) o);
            }
        }
        float[] f = new float[all.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = all.get(i);
        }
        return f;
    }

    /** Rows by their {@code id}. */
    static Map<Long, Row> byId(List<Row> rows) {
        Map<Long, Row> m = new HashMap<>();
        for (Row r : rows) {
            m.put(r.getLong(r.fieldIndex("id")), r);
        }
        return m;
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": floats");
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < Precision.FP32.relativeTolerance(), what + ": relative error " + rel);
    }

    /** An exception and its causes, one per line: Spark wraps executor errors several times. */
    static String chain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t).append('\n');
        }
        return sb.toString();
    }
}
