package dev.mmca.spark;

import static dev.mmca.spark.SparkTests.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weights on a cluster file system (simulated by {@link OtherSchemeFileSystem}): the driver ships
 * them to the executors, and a stage saved there loads from there.
 */
class HadoopWeightsTest {
    @TempDir
    Path dir;

    @Test
    void aStageSavedOnAClusterFileSystemLoadsFromThereAndShipsItsWeightsToExecutors() throws Exception {
        SparkSession spark = SparkTests.session();
        spark.sparkContext().hadoopConfiguration().set("fs." + OtherSchemeFileSystem.SCHEME + ".impl",
                OtherSchemeFileSystem.class.getName());
        spark.sparkContext().hadoopConfiguration().setBoolean("fs." + OtherSchemeFileSystem.SCHEME
                + ".impl.disable.cache", true);
        SparkTests.Sample sample = new SparkTests.Sample(dir.resolve("sample"), 6, 1, 4, 3, 17);
        Dataset<Row> rows = SparkTests.nestedRows(spark, sample.records(), 2).cache();
        MmcaEmbeddings local = MmcaEmbeddings.builder(sample.weights).idColumn("id").build();
        Map<Long, Row> expected = SparkTests.byId(local.transform(rows).collectAsList());

        String remote = OtherSchemeFileSystem.SCHEME + "://" + dir.resolve("cluster").resolve("stage");
        local.save(remote);
        Files.delete(Path.of(sample.weights));
        MmcaEmbeddings loaded = MmcaEmbeddings.load(remote);
        assertTrue(loaded.getWeights().startsWith(OtherSchemeFileSystem.SCHEME + ":"), loaded.getWeights());
        assertTrue(!WeightsLocation.isLocal(loaded.getWeights()));

        Map<Long, Row> got = SparkTests.byId(loaded.transform(rows).collectAsList());
        assertEquals(expected.keySet(), got.keySet());
        for (long id : expected.keySet()) {
            assertArrayEquals(floats(expected.get(id), "text_out"), floats(got.get(id), "text_out"), "row " + id);
        }
        String shipped = WeightsLocation.fileName(loaded.getWeights());
        assertTrue(Files.isRegularFile(Path.of(org.apache.spark.SparkFiles.get(shipped))),
                "the executors read the copy the driver shipped, " + shipped);
    }
}
