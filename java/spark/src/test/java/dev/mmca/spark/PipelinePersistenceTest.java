package dev.mmca.spark;

import static dev.mmca.spark.SparkTests.floats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Stream;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.feature.SQLTransformer;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PipelinePersistenceTest {
    @TempDir
    Path dir;

    @Test
    void aSavedPipelineModelLoadsInAFreshSessionFromAnotherPlaceWithoutTheOriginalWeights() throws Exception {
        SparkSession spark = SparkTests.session();
        SparkTests.Sample sample = new SparkTests.Sample(dir.resolve("sample"), 13, 1, 7, 5, 3);
        String input = dir.resolve("tokens.parquet").toString();
        SparkTests.nestedRows(spark, sample.records(), 2).write().parquet(input);
        SQLTransformer toFlat = new SQLTransformer().setStatement(
                "SELECT id, flatten(visual) AS visual, flatten(text) AS text FROM __THIS__");
        MmcaEmbeddings embed = new MmcaEmbeddings().setWeights(sample.weights).setTokenLayout("flat").setIdCol("id")
                .setWindow(4).setBatchTokens(40).setKeepInputs(false);
        PipelineModel model = new Pipeline().setStages(new PipelineStage[] {toFlat, embed}).fit(spark.read()
                .parquet(input));
        Map<Long, Row> before = SparkTests.byId(model.transform(spark.read().parquet(input)).collectAsList());
        Path saved = dir.resolve("saved-model");
        model.write().save(saved.toString());
        spark.stop();

        // Another place, and the weights file the stage was built from is gone: the folder carries its own.
        Path moved = dir.resolve("elsewhere").resolve("model");
        Files.createDirectories(moved.getParent());
        Files.move(saved, moved);
        Files.delete(Path.of(sample.weights));
        SparkSession fresh = SparkTests.session();
        assertNotSame(spark, fresh);
        PipelineModel loaded = PipelineModel.load(moved.toString());
        MmcaEmbeddings stage = (MmcaEmbeddings) loaded.stages()[1];
        assertEquals(embed.uid(), stage.uid());
        assertTrue(Path.of(URI.create(stage.getWeights())).startsWith(moved), stage.getWeights());
        assertEquals(List.of(4, 40, false, "flat", "id"), List.of(stage.getWindow(), stage.getBatchTokens(),
                stage.getKeepInputs(), stage.getTokenLayout(), stage.getIdCol()));
        List<Row> after = loaded.transform(fresh.read().parquet(input)).collectAsList();
        assertEquals(List.of("id", "visual_out", "text_out"), List.of(after.get(0).schema().fieldNames()));
        Map<Long, Row> afterById = SparkTests.byId(after);
        assertEquals(before.keySet(), afterById.keySet());
        assertEquals(13, before.size());
        for (long id : before.keySet()) {
            assertArrayEquals(floats(before.get(id), "visual_out"), floats(afterById.get(id), "visual_out"), "row " + id);
            assertArrayEquals(floats(before.get(id), "text_out"), floats(afterById.get(id), "text_out"), "row " + id);
        }
    }

    @Test
    void aSavedStageHoldsItsParamsAndACopyOfTheWeightsNamedByContent() throws Exception {
        SparkTests.session();
        SparkTests.Sample sample = new SparkTests.Sample(dir.resolve("sample"), 2, 1, 3, 3, 8);
        MmcaEmbeddings stage = MmcaEmbeddings.builder(sample.weights).backend("java").visualColumn("v")
                .textColumn("t").visualOutColumn("vo").textOutColumn("to").window(3).batchTokens(99).build();
        Path folder = dir.resolve("stage");
        stage.save(folder.toString());
        List<Path> weightsCopies;
        try (Stream<Path> s = Files.list(folder)) {
            weightsCopies = s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList();
        }
        assertEquals(1, weightsCopies.size(), weightsCopies.toString());
        assertTrue(weightsCopies.get(0).getFileName().toString().matches("weights-[0-9a-f]{16}\\.safetensors"));
        assertArrayEquals(Files.readAllBytes(Path.of(sample.weights)), Files.readAllBytes(weightsCopies.get(0)));
        assertTrue(Files.isDirectory(folder.resolve("metadata")));

        MmcaEmbeddings back = MmcaEmbeddings.load(folder.toString());
        assertEquals(stage.uid(), back.uid());
        for (Param<?> p : stage.params()) {
            if (!p.name().equals("weights")) {
                assertEquals(valueOf(stage, p.name()), valueOf(back, p.name()), p.name());
            }
        }
        assertEquals(weightsCopies.get(0), Path.of(URI.create(back.getWeights())));
        assertFalse(back.isSet(back.idCol()), "an unset optional param stays unset");

        IOException exists = assertThrows(IOException.class, () -> stage.save(folder.toString()));
        assertTrue(exists.getMessage().contains("already exists"), exists.getMessage());
        stage.write().overwrite().save(folder.toString());
        assertEquals(stage.getBatchTokens(), MmcaEmbeddings.load(folder.toString()).getBatchTokens());
    }

    /** A param's value, or null where it is not defined. */
    private static Object valueOf(MmcaEmbeddings stage, String name) {
        Param<Object> p = stage.getParam(name);
        return stage.isDefined(p) ? stage.getOrDefault(p) : null;
    }

    @Test
    void loadingAnotherStagesFolderNamesWhatWasFound() throws Exception {
        SparkTests.session();
        Path folder = dir.resolve("sql-stage");
        new SQLTransformer().setStatement("SELECT * FROM __THIS__").save(folder.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MmcaEmbeddings.load(folder.toString()));
        assertTrue(e.getMessage().contains("expected a saved dev.mmca.spark.MmcaEmbeddings stage, found a saved"
                + " org.apache.spark.ml.feature.SQLTransformer"), e.getMessage());
    }

    @Test
    void theStageIsRegisteredAsASparkTransformerService() {
        assertTrue(ServiceLoader.load(Transformer.class).stream().anyMatch(p -> p.type() == MmcaEmbeddings.class),
                "META-INF/services/org.apache.spark.ml.Transformer should list " + MmcaEmbeddings.class.getName());
    }
}
