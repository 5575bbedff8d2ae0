package dev.mmca.io;

import dev.mmca.FloatTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The content of a safetensors file: its tensors, in the order the header lists them, converted to
 * float32 heap tensors, and its {@code __metadata__} string map (empty when the file has none).
 * Both maps are unmodifiable and keep their order.
 */
public record SafetensorsFile(Map<String, FloatTensor> tensors, Map<String, String> metadata) {
    public SafetensorsFile {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(tensors, "tensors")));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata, "metadata")));
    }
}
