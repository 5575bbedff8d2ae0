package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.embed.EmbedOptions;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

class StageParamsTest {
    @Test
    void defaultsMatchTheFilePipelineAndTheDocumentedColumnNames() {
        MmcaEmbeddings s = new MmcaEmbeddings();
        assertTrue(s.uid().startsWith("mmcaEmbeddings_"), s.uid());
        assertEquals(List.of("auto", "visual", "text", "visual_out", "text_out", "nested"), List.of(s.getBackend(),
                s.getVisualCol(), s.getTextCol(), s.getVisualOutputCol(), s.getTextOutputCol(), s.getTokenLayout()));
        assertEquals(EmbedOptions.DEFAULT_WINDOW, s.getWindow());
        assertEquals(EmbedOptions.DEFAULT_BATCH_TOKENS, s.getBatchTokens());
        assertEquals(1, s.getComputeThreads(), "one forward at a time, as the file pipeline's default");
        assertTrue(s.getKeepInputs());
        assertNull(s.getWeights());
        assertNull(s.getIdCol());
        assertNull(s.getVisualTokensCol());
    }

    @Test
    void sparkSeesEveryParam() {
        List<String> names = Arrays.stream(new MmcaEmbeddings().params()).map(Param::name).sorted().toList();
        assertEquals(List.of("backend", "batchTokens", "computeThreads", "idCol", "keepInputs", "textCol", "textOutputCol",
                "textTokensCol", "tokenLayout", "visualCol", "visualOutputCol", "visualTokensCol", "weights",
                "window"), names);
    }

    @Test
    void theBuilderSetsTheParams() {
        MmcaEmbeddings s = MmcaEmbeddings.builder("w.safetensors").backend("cpu").visualColumn("v").textColumn("t")
                .visualOutColumn("vo").textOutColumn("to").idColumn("key").window(7).batchTokens(300)
                .computeThreads(3).tokenLayout(TokenLayout.FLAT).visualTokensColumn("nv").textTokensColumn("nt").keepInputs(false)
                .build();
        assertEquals(List.of("w.safetensors", "cpu", "v", "t", "vo", "to", "key", "flat", "nv", "nt"),
                List.of(s.getWeights(), s.getBackend(), s.getVisualCol(), s.getTextCol(), s.getVisualOutputCol(),
                        s.getTextOutputCol(), s.getIdCol(), s.getTokenLayout(), s.getVisualTokensCol(),
                        s.getTextTokensCol()));
        assertEquals(List.of(7, 300, 3, false), List.of(s.getWindow(), s.getBatchTokens(), s.getComputeThreads(),
                s.getKeepInputs()));
    }

    @Test
    void copyKeepsTheUidAppliesExtraParamsAndLeavesTheOriginalAlone() {
        MmcaEmbeddings s = new MmcaEmbeddings().setWeights("a.safetensors").setWindow(5);
        MmcaEmbeddings c = s.copy(new ParamMap().put(s.window(), 9).put(s.textCol(), "caption"));
        assertEquals(s.uid(), c.uid());
        assertEquals(List.of(9, "caption", "a.safetensors"), List.of(c.getWindow(), c.getTextCol(), c.getWeights()));
        assertEquals(List.of(5, "text"), List.of(s.getWindow(), s.getTextCol()));
        c.setIdCol("id").setIdCol(null);
        assertNull(c.getIdCol(), "a null optional column unsets it");
    }

    @Test
    void settersRejectBadValuesNamingTheParam() {
        MmcaEmbeddings s = new MmcaEmbeddings();
        assertEquals("window: expected at least 1 row, got 0",
                assertThrows(IllegalArgumentException.class, () -> s.setWindow(0)).getMessage());
        assertEquals("batchTokens: expected at least 1 token, got -3",
                assertThrows(IllegalArgumentException.class, () -> s.setBatchTokens(-3)).getMessage());
        assertEquals("computeThreads: expected at least 1 forward call at once, got 0",
                assertThrows(IllegalArgumentException.class, () -> s.setComputeThreads(0)).getMessage());
        assertEquals("tokenLayout: expected nested (array<array<float>>) or flat (array<float>), got 'ragged'",
                assertThrows(IllegalArgumentException.class, () -> s.setTokenLayout("ragged")).getMessage());
        assertEquals("textCol: expected a non-empty string, got ' '",
                assertThrows(IllegalArgumentException.class, () -> s.setTextCol(" ")).getMessage());
        assertEquals("weights: expected a non-empty string, got null",
                assertThrows(IllegalArgumentException.class, () -> s.setWeights(null)).getMessage());
        assertEquals(TokenLayout.FLAT.paramValue(), s.setTokenLayout(" FLAT ").getTokenLayout());
    }

    @Test
    void transformSchemaWithoutWeightsOrWithClashingColumnsNamesTheParam() {
        StructType in = new StructType().add("visual", MmcaEmbeddings.TOKENS).add("text", MmcaEmbeddings.TOKENS)
                .add("id", DataTypes.LongType);
        IllegalArgumentException noWeights = assertThrows(IllegalArgumentException.class,
                () -> new MmcaEmbeddings().transformSchema(in));
        assertTrue(noWeights.getMessage().startsWith("weights: expected the path of a safetensors weights file"),
                noWeights.getMessage());
        MmcaEmbeddings s = new MmcaEmbeddings().setWeights("w.safetensors");
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.copy(ParamMap.empty()).setVisualOutputCol("id")
                .transformSchema(in)).getMessage().startsWith("visualOutputCol 'id': expected a name not in the input"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.copy(ParamMap.empty()).setTextOutputCol(
                "visual_out").transformSchema(in)).getMessage().startsWith("textOutputCol: expected a name other than"
                + " visualOutputCol"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.copy(ParamMap.empty()).setIdCol("visual")
                .transformSchema(in)).getMessage().startsWith("idCol: expected a column other than the token columns"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> s.copy(ParamMap.empty()).setTextCol("visual")
                .transformSchema(in)).getMessage().startsWith("textCol: expected a column other than visualCol"));
        assertEquals(List.of("visual", "text", "id", "visual_out", "text_out"),
                List.of(s.transformSchema(in).fieldNames()));
        assertEquals(List.of("id", "visual_out", "text_out"),
                List.of(s.copy(ParamMap.empty()).setKeepInputs(false).transformSchema(in).fieldNames()));
    }
}
