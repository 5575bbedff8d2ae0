package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.embed.EmbedRecord;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rows that cannot be embedded fail the job with a message naming the row, the column, what was expected and what came. */
class BadRowsTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static SparkTests.Sample sample;
    private static List<EmbedRecord> good;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTests.session();
        sample = new SparkTests.Sample(dir, 5, 1, 4, 3, 21);
        good = sample.records();
    }

    /** Five good rows (id 0..4), with row {@code badId}'s visual tokens replaced by {@code visual}. */
    private static Dataset<Row> rowsWithVisual(long badId, float[][] visual) {
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("visual", DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, true), true),
                        true)
                .add("text", MmcaEmbeddings.TOKENS, true);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < good.size(); i++) {
            EmbedRecord r = good.get(i);
            rows.add(RowFactory.create((long) i, i == badId ? visual : RowTokens.toTokens(r.visual(), r.dim()),
                    RowTokens.toTokens(r.text(), r.dim())));
        }
        return spark.createDataFrame(rows, schema).repartition(2);
    }

    private static String failure(MmcaEmbeddings stage, Dataset<Row> in) {
        Dataset<Row> out = stage.transform(in);
        return SparkTests.chain(assertThrows(Exception.class, out::collectAsList));
    }

    private static MmcaEmbeddings nested() {
        return MmcaEmbeddings.builder(sample.weights).idColumn("id").build();
    }

    private static MmcaEmbeddings flat() {
        return MmcaEmbeddings.builder(sample.weights).idColumn("id").tokenLayout(TokenLayout.FLAT).build();
    }

    @Test
    void aTokenOfTheWrongDimNamesTheRowColumnTokenAndDims() {
        String all = failure(nested(), rowsWithVisual(3, new float[][] {new float[31], new float[31]}));
        assertTrue(all.contains("(id = 3): column 'visual', token 0: expected 32 floats (the model's dim), got 31"),
                all);
    }

    @Test
    void aFlatRowOfTheWrongLengthNamesTheRowColumnAndDim() {
        String all = failure(flat(), SparkTests.flat(rowsWithVisual(2, new float[][] {new float[31], new float[31]})));
        assertTrue(all.contains("(id = 2): column 'visual': expected a multiple of dim = 32 floats"
                + " (tokens x dim, the model's dim), got 62"), all);
    }

    @Test
    void aNullRowNamesTheRowColumnAndWhatWasExpectedInBothLayouts() {
        String nestedNull = failure(nested(), rowsWithVisual(4, null));
        assertTrue(nestedNull.contains("(id = 4): column 'visual': expected tokens (array<array<float>>, tokens x 32),"
                + " got null"), nestedNull);
        String flatNull = failure(flat(), SparkTests.flat(rowsWithVisual(1, null)));
        assertTrue(flatNull.contains("(id = 1): column 'visual': expected tokens (array<float>, tokens x 32 floats),"
                + " got null"), flatNull);
    }

    @Test
    void aNullTokenAndANonFiniteFloatNameTheirToken() {
        float[] ok = new float[32];
        String nullToken = failure(nested(), rowsWithVisual(0, new float[][] {ok, null}));
        assertTrue(nullToken.contains("(id = 0): column 'visual', token 1: expected 32 floats, got null"), nullToken);
        float[] nan = new float[32];
        nan[7] = Float.NaN;
        String notFinite = failure(flat(), SparkTests.flat(rowsWithVisual(2, new float[][] {ok, ok, nan})));
        assertTrue(notFinite.contains("(id = 2): column 'visual', token 2: expected finite floats, got NaN at 7"),
                notFinite);
    }

    @Test
    void withoutAnIdColumnTheRowIsNamedByPartitionAndPosition() {
        MmcaEmbeddings stage = MmcaEmbeddings.builder(sample.weights).build();
        String all = failure(stage, rowsWithVisual(3, new float[][] {new float[30]}));
        assertTrue(all.matches("(?s).*row \\d+ of partition \\d+: column 'visual', token 0: expected 32 floats.*"),
                all);
    }
}
