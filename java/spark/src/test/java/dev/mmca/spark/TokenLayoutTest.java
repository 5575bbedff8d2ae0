package dev.mmca.spark;

import static dev.mmca.spark.SparkTests.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenLayoutTest {
    @TempDir
    static Path dir;
    private static SparkSession spark;
    private static SparkTests.Sample sample;
    private static Dataset<Row> nested;

    @BeforeAll
    static void start() throws Exception {
        spark = SparkTests.session();
        sample = new SparkTests.Sample(dir, 17, 1, 8, 6, 11);
        nested = SparkTests.nestedRows(spark, sample.records(), 2).cache();
    }

    private static MmcaEmbeddings.Builder stage() {
        return MmcaEmbeddings.builder(sample.weights).window(4).batchTokens(48).idColumn("id");
    }

    @Test
    void flatAndNestedLayoutsGiveIdenticalOutputs() {
        Map<Long, Row> fromNested = SparkTests.byId(stage().build().transform(nested).collectAsList());
        Dataset<Row> flatOut = stage().tokenLayout(TokenLayout.FLAT).build().transform(SparkTests.flat(nested));
        assertEquals(DataTypes.FloatType, ((ArrayType) flatOut.schema().apply("visual_out").dataType()).elementType());
        Map<Long, Row> fromFlat = SparkTests.byId(flatOut.collectAsList());
        assertEquals(17, fromNested.size());
        assertEquals(fromNested.keySet(), fromFlat.keySet());
        for (long id : fromNested.keySet()) {
            for (String c : List.of("visual_out", "text_out", "visual", "text")) {
                assertArrayEquals(floats(fromNested.get(id), c), floats(fromFlat.get(id), c), "row " + id + " " + c);
            }
        }
    }

    @Test
    void tokenCountColumnsGiveTheSameOutputsAsCountsInferredFromTheDim() {
        Dataset<Row> flat = SparkTests.flat(nested);
        Dataset<Row> counted = nested.selectExpr("id", "flatten(visual) as visual", "flatten(text) as text",
                "size(visual) as nv", "cast(size(text) as bigint) as nt");
        Map<Long, Row> inferred = SparkTests.byId(stage().tokenLayout(TokenLayout.FLAT).build().transform(flat)
                .collectAsList());
        Dataset<Row> out = stage().tokenLayout(TokenLayout.FLAT).visualTokensColumn("nv").textTokensColumn("nt")
                .build().transform(counted);
        assertEquals(List.of("id", "visual", "text", "nv", "nt", "visual_out", "text_out"), List.of(out.columns()));
        Map<Long, Row> fromCounts = SparkTests.byId(out.collectAsList());
        assertEquals(inferred.keySet(), fromCounts.keySet());
        for (long id : inferred.keySet()) {
            assertArrayEquals(floats(inferred.get(id), "text_out"), floats(fromCounts.get(id), "text_out"));
            assertArrayEquals(floats(inferred.get(id), "visual_out"), floats(fromCounts.get(id), "visual_out"));
        }
    }

    @Test
    void aTokenCountThatDisagreesWithTheArrayFailsNamingRowColumnsAndSizes() throws Exception {
        Dataset<Row> counted = nested.selectExpr("id", "flatten(visual) as visual", "flatten(text) as text",
                "if(id = 5, size(visual) + 1, size(visual)) as nv");
        Dataset<Row> out = stage().tokenLayout(TokenLayout.FLAT).visualTokensColumn("nv").build().transform(counted);
        String all = SparkTests.chain(assertThrows(Exception.class, out::collectAsList));
        int nv = sample.records().get(5).visualLength();
        assertTrue(all.contains("(id = 5): column 'visual': expected nv x dim = " + (nv + 1) + " x 32 = "
                + (nv + 1) * 32 + " floats, got " + nv * 32), all);
    }

    @Test
    void countColumnsBelongToTheFlatLayoutOnlyAndMustBeIntegers() {
        Dataset<Row> withCounts = nested.selectExpr("*", "size(visual) as nv", "cast(size(visual) as double) as dv");
        IllegalArgumentException nestedWithCount = assertThrows(IllegalArgumentException.class,
                () -> stage().visualTokensColumn("nv").build().transform(withCounts));
        assertTrue(nestedWithCount.getMessage().startsWith("visualTokensCol: expected unset with tokenLayout nested"),
                nestedWithCount.getMessage());
        Dataset<Row> flat = withCounts.selectExpr("id", "flatten(visual) as visual", "flatten(text) as text", "dv");
        IllegalArgumentException doubles = assertThrows(IllegalArgumentException.class,
                () -> stage().tokenLayout(TokenLayout.FLAT).visualTokensColumn("dv").build().transform(flat));
        assertTrue(doubles.getMessage().contains("visualTokensCol 'dv': expected an integer type")
                && doubles.getMessage().endsWith("got double"), doubles.getMessage());
    }

    @Test
    void aFlatColumnReadAsNestedIsRejectedWithTheLayoutToSet() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> stage().build().transform(SparkTests.flat(nested)));
        assertTrue(e.getMessage().contains("visualCol 'visual': expected type array<array<float>>")
                && e.getMessage().contains("got array<float>")
                && e.getMessage().contains("setTokenLayout(\"flat\")"), e.getMessage());
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> stage().tokenLayout(TokenLayout.FLAT).build().transform(nested));
        assertTrue(other.getMessage().contains("expected type array<float>")
                && other.getMessage().contains("setTokenLayout(\"nested\")"), other.getMessage());
    }
}
