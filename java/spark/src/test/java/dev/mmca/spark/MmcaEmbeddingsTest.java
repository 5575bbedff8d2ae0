package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.embed.EmbedOptions;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.EmbedRecord;
import dev.mmca.embed.EmbedReport;
import dev.mmca.embed.SampleGenerator;
import dev.mmca.embed.ShardRecords;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MmcaEmbeddingsTest {
    private static final int DIM = 32;

    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static List<Path> shards;
    private static String weights;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkSession.builder().master("local[2]").appName("mmca-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1")
                .getOrCreate();
        MmcaConfig config = MmcaConfig.builder().dim(DIM).heads(4).kvHeads(2).dimHead(8).build();
        shards = new SampleGenerator(23, 2, config, 9, 7, 5).write(dir);
        weights = dir.resolve(SampleGenerator.WEIGHTS_FILE).toString();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
    }

    /** One row per record: id, then visual and text tokens as float[tokens][width] (width from the record). */
    private static Dataset<Row> rows(List<EmbedRecord> records, int partitions) {
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("visual", MmcaEmbeddings.TOKENS, false).add("text", MmcaEmbeddings.TOKENS, false);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            EmbedRecord r = records.get(i);
            int width = r.visual().length / r.visualLength();
            rows.add(org.apache.spark.sql.RowFactory.create((long) i, RowTokens.toTokens(r.visual(), width),
                    RowTokens.toTokens(r.text(), width)));
        }
        return spark.createDataFrame(rows, schema).repartition(partitions);
    }

    private static List<EmbedRecord> allInputs() throws Exception {
        List<EmbedRecord> all = new ArrayList<>();
        for (Path s : shards) {
            all.addAll(ShardRecords.readInput(s));
        }
        return all;
    }

    private static void assertClose(float[] expected, float[][] actual, String what) {
        double diff = 0;
        double norm = 0;
        int k = 0;
        for (float[] token : actual) {
            assertEquals(DIM, token.length, what);
            for (float x : token) {
                double d = x - expected[k];
                diff += d * d;
                norm += (double) expected[k] * expected[k];
                k++;
            }
        }
        assertEquals(expected.length, k, what + ": floats");
        double rel = Math.sqrt(diff / norm);
        assertTrue(rel < 1e-5, what + ": relative error " + rel);
    }

    private static float[][] tokens(Row row, String column) {
        List<Object> outer = row.getList(row.fieldIndex(column));
        float[][] t = new float[outer.size()][];
        for (int i = 0; i < t.length; i++) {
            scala.collection.Seq<?> inner = (scala.collection.Seq<?>) outer.get(i);
            t[i] = new float[inner.length()];
            for (int d = 0; d < t[i].length; d++) {
                t[i][d] = (Float) inner.apply(d);
            }
        }
        return t;
    }

    @Test
    void resultsEqualTheFilePipelineOnTheSameRecords() throws Exception {
        Path out = dir.resolve("pipeline-out");
        EmbedReport report = EmbedPipeline.run(EmbedOptions.builder(Path.of(weights),
                dir.resolve(SampleGenerator.INPUT_DIR), out).build(), null);
        assertTrue(report.succeeded(), report.failures().toString());
        List<EmbedRecord> expected = new ArrayList<>();
        for (Path s : shards) {
            expected.addAll(ShardRecords.readOutput(out.resolve(s.getFileName())));
        }

        Dataset<Row> result = MmcaEmbeddings.builder(weights).window(8).batchTokens(64).idColumn("id").build()
                .transform(rows(allInputs(), 3));
        List<Row> got = result.collectAsList();
        assertEquals(expected.size(), got.size());
        for (Row row : got) {
            int id = (int) row.getLong(0);
            assertClose(expected.get(id).visual(), tokens(row, "visual_out"), "row " + id + " visual_out");
            assertClose(expected.get(id).text(), tokens(row, "text_out"), "row " + id + " text_out");
            assertEquals(expected.get(id).visualLength(), tokens(row, "visual").length, "passes inputs through");
        }
    }

    @Test
    void weightsAreLoadedOncePerJvmNotPerTaskOrRow() throws Exception {
        MmcaEmbeddings e = MmcaEmbeddings.builder(weights).build();
        e.transform(rows(allInputs(), 4)).count();
        int after = ExecutorModels.loads();
        e.transform(rows(allInputs(), 4)).collectAsList();
        assertEquals(after, ExecutorModels.loads(), "a second job over 4 partitions loaded the weights again");
        assertTrue(after >= 1);
    }

    @Test
    void aRowOfTheWrongDimFailsNamingTheRow() throws Exception {
        List<EmbedRecord> records = new ArrayList<>(allInputs().subList(0, 5));
        records.set(3, new EmbedRecord(new float[2 * 31], new float[31], 31));
        Dataset<Row> result = MmcaEmbeddings.builder(weights).idColumn("id").build().transform(rows(records, 2));
        Exception e = assertThrows(Exception.class, result::collectAsList);
        String all = chain(e);
        assertTrue(all.contains("id = 3") && all.contains("column 'visual', token 0")
                && all.contains("expected 32 floats (the model's dim), got 31"), all);
    }

    @Test
    void columnsKeepTheirOrderAndOddNamesAndTokenOnlyInputsWork() throws Exception {
        Dataset<Row> in = rows(allInputs().subList(0, 4), 1).selectExpr("text as `t.x`", "id as `my id`", "visual");
        Dataset<Row> out = MmcaEmbeddings.builder(weights).textColumn("t.x").idColumn("my id").build().transform(in);
        assertEquals(List.of("t.x", "my id", "visual", "visual_out", "text_out"), List.of(out.columns()));
        assertEquals(4, out.count());
        Dataset<Row> only = MmcaEmbeddings.builder(weights).build().transform(in.selectExpr("visual", "`t.x` as text"));
        assertEquals(List.of("visual", "text", "visual_out", "text_out"), List.of(only.columns()));
        Row first = only.collectAsList().get(0);
        assertEquals(tokens(first, "text").length, tokens(first, "text_out").length);
        Dataset<Row> lean = MmcaEmbeddings.builder(weights).textColumn("t.x").keepTokenColumns(false).build()
                .transform(in);
        assertEquals(List.of("my id", "visual_out", "text_out"), List.of(lean.columns()));
        assertEquals(4, lean.collectAsList().size());
    }

    @Test
    void aTokenColumnOfTheWrongTypeIsRejectedOnTheDriver() {
        Dataset<Row> df = spark.range(3).selectExpr("id", "array(array(cast(id as double))) as visual",
                "array(array(cast(id as float))) as text");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MmcaEmbeddings.builder(weights).build().transform(df));
        assertTrue(e.getMessage().contains("'visual'") && e.getMessage().contains("array<array<double>>"),
                e.getMessage());
        Dataset<Row> floats = df.selectExpr("id", "text as visual", "text");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> MmcaEmbeddings.builder(weights).textColumn("caption").build().transform(floats));
        assertTrue(missing.getMessage().contains("'caption'"), missing.getMessage());
    }

    private static String chain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            sb.append(t).append('\n');
        }
        return sb.toString();
    }
}
