package dev.mmca.spark;

import static dev.mmca.spark.SparkTests.assertClose;
import static dev.mmca.spark.SparkTests.floats;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.embed.EmbedOptions;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.EmbedRecord;
import dev.mmca.embed.EmbedReport;
import dev.mmca.embed.ShardRecords;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MmcaEmbeddingsTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static SparkTests.Sample sample;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTests.session();
        sample = new SparkTests.Sample(dir, 23, 2, 9, 7, 5);
    }

    @Test
    void resultsEqualTheFilePipelineOnTheSameRecordsInBothLayouts() throws Exception {
        Path out = dir.resolve("pipeline-out");
        EmbedReport report = EmbedPipeline.run(EmbedOptions.builder(Path.of(sample.weights), sample.input(), out)
                .build(), null);
        assertTrue(report.succeeded(), report.failures().toString());
        List<EmbedRecord> expected = new ArrayList<>();
        for (Path s : sample.shards) {
            expected.addAll(ShardRecords.readOutput(out.resolve(s.getFileName())));
        }
        Dataset<Row> nested = SparkTests.nestedRows(spark, sample.records(), 3);
        // Windows of 8 rows; then windows cut by tokens (twice batchTokens = 32, a few rows each).
        int[][] windowAndBatchTokens = {{8, 64}, {64, 16}};
        for (TokenLayout layout : TokenLayout.values()) {
            for (int[] wb : windowAndBatchTokens) {
                Dataset<Row> in = layout == TokenLayout.FLAT ? SparkTests.flat(nested) : nested;
                List<Row> got = MmcaEmbeddings.builder(sample.weights).tokenLayout(layout).window(wb[0])
                        .batchTokens(wb[1]).idColumn("id").build().transform(in).collectAsList();
                assertEquals(expected.size(), got.size(), layout + ": rows");
                for (Row row : got) {
                    int id = (int) row.getLong(0);
                    String what = layout + ", window " + wb[0] + ", batchTokens " + wb[1] + ", row " + id;
                    assertClose(expected.get(id).visual(), floats(row, "visual_out"), what + " visual_out");
                    assertClose(expected.get(id).text(), floats(row, "text_out"), what + " text_out");
                    assertEquals(expected.get(id).visualLength() * SparkTests.DIM, floats(row, "visual").length,
                            what + ": passes inputs through");
                }
            }
        }
    }

    @Test
    void weightsAreLoadedOncePerJvmNotPerTaskOrRow() throws Exception {
        MmcaEmbeddings e = MmcaEmbeddings.builder(sample.weights).build();
        e.transform(SparkTests.nestedRows(spark, sample.records(), 4)).count();
        int after = ExecutorModels.loads();
        e.transform(SparkTests.nestedRows(spark, sample.records(), 4)).collectAsList();
        assertEquals(after, ExecutorModels.loads(), "a second job over 4 partitions loaded the weights again");
        assertTrue(after >= 1);
    }

    @Test
    void columnsKeepTheirOrderAndOddNamesAndTokenOnlyInputsWork() throws Exception {
        Dataset<Row> in = SparkTests.nestedRows(spark, sample.records().subList(0, 4), 1)
                .selectExpr("text as `t.x`", "id as `my id`", "visual");
        Dataset<Row> out = MmcaEmbeddings.builder(sample.weights).textColumn("t.x").idColumn("my id").build()
                .transform(in);
        assertEquals(List.of("t.x", "my id", "visual", "visual_out", "text_out"), List.of(out.columns()));
        assertEquals(4, out.count());
        Dataset<Row> only = MmcaEmbeddings.builder(sample.weights).build()
                .transform(in.selectExpr("visual", "`t.x` as text"));
        assertEquals(List.of("visual", "text", "visual_out", "text_out"), List.of(only.columns()));
        Row first = only.collectAsList().get(0);
        assertEquals(floats(first, "text").length, floats(first, "text_out").length);
        Dataset<Row> lean = MmcaEmbeddings.builder(sample.weights).textColumn("t.x").keepInputs(false).build()
                .transform(in);
        assertEquals(List.of("my id", "visual_out", "text_out"), List.of(lean.columns()));
        assertEquals(4, lean.collectAsList().size());
    }

    @Test
    void theSchemaAnnouncedIsTheSchemaProducedInBothLayouts() throws Exception {
        Dataset<Row> nested = SparkTests.nestedRows(spark, sample.records().subList(0, 3), 1);
        for (TokenLayout layout : TokenLayout.values()) {
            Dataset<Row> in = layout == TokenLayout.FLAT ? SparkTests.flat(nested) : nested;
            for (boolean keep : new boolean[] {true, false}) {
                MmcaEmbeddings stage = MmcaEmbeddings.builder(sample.weights).tokenLayout(layout).keepInputs(keep)
                        .build();
                assertEquals(stage.transformSchema(in.schema()), stage.transform(in).schema(),
                        layout + ", keepInputs " + keep);
            }
        }
    }

    @Test
    void aTokenColumnOfTheWrongTypeIsRejectedOnTheDriverNamingColumnAndTypes() {
        Dataset<Row> df = spark.range(3).selectExpr("id", "array(array(cast(id as double))) as visual",
                "array(array(cast(id as float))) as text");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MmcaEmbeddings.builder(sample.weights).build().transform(df));
        assertTrue(e.getMessage().contains("visualCol 'visual'") && e.getMessage().contains("array<array<double>>")
                && e.getMessage().contains("expected type array<array<float>>"), e.getMessage());
        Dataset<Row> floats = df.selectExpr("id", "text as visual", "text");
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> MmcaEmbeddings.builder(sample.weights).textColumn("caption").build().transform(floats));
        assertTrue(missing.getMessage().contains("textCol: expected a column of the input, got 'caption'"),
                missing.getMessage());
    }
}
