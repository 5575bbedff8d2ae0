package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WeightsLocationTest {
    @Test
    void plainPathsAndFileUrisAreLocalOtherSchemesAreHadoopFileSystems() {
        assertNull(WeightsLocation.scheme("/data/w.safetensors"));
        assertNull(WeightsLocation.scheme("w.safetensors"));
        assertNull(WeightsLocation.scheme("C:\\models\\w.safetensors"), "a drive letter is not a scheme");
        assertTrue(WeightsLocation.isLocal("/data/w.safetensors"));
        assertTrue(WeightsLocation.isLocal("file:/data/w.safetensors"));
        assertTrue(WeightsLocation.isLocal("FILE:///data/w.safetensors"));
        assertFalse(WeightsLocation.isLocal("hdfs://nn:8020/models/w.safetensors"));
        assertEquals("s3a", WeightsLocation.scheme("s3a://bucket/w.safetensors"));
    }

    @Test
    void localPathsAndFileNames() {
        assertEquals(Path.of("/data/w.safetensors"), WeightsLocation.localPath("file:/data/w.safetensors"));
        assertEquals(Path.of("/data/w.safetensors"), WeightsLocation.localPath("file:///data/w.safetensors"));
        assertEquals(Path.of("rel/w.safetensors"), WeightsLocation.localPath("rel/w.safetensors"));
        assertEquals("w.safetensors", WeightsLocation.fileName("hdfs://nn:8020/models/w.safetensors"));
        assertEquals("w.safetensors", WeightsLocation.fileName("/data/w.safetensors"));
        assertEquals("w.safetensors", WeightsLocation.fileName("w.safetensors"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WeightsLocation.localPath("file:relative/w.safetensors"));
        assertTrue(e.getMessage().startsWith("weights: expected a local path or an absolute file: URI"), e.getMessage());
    }

    @Test
    void executorsReadALocalFileDirectlyAndNameWhatIsMissing(@TempDir Path dir) throws Exception {
        Path w = Files.writeString(dir.resolve("w.safetensors"), "x");
        assertEquals(w, ExecutorModels.resolve(w.toString()));
        assertEquals(w, ExecutorModels.resolve(w.toUri().toString()));
        String missing = dir.resolve("none.safetensors").toString();
        java.io.IOException e = assertThrows(java.io.IOException.class, () -> ExecutorModels.resolve(missing));
        assertTrue(e.getMessage().contains("found nothing at " + missing + " nor a shipped none.safetensors")
                && e.getMessage().contains("spark-submit --files"), e.getMessage());
    }
}
