package dev.mmca.parity;

import dev.mmca.FloatTensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The outputs of one path at one thread count: tensors by {@code scenario.output} key, nanoseconds by scenario, and
 * where they were computed ({@code this JVM}, or the launch of a fresh one).
 */
public record PathRun(Map<String, FloatTensor> outputs, Map<String, Long> nanos, String where) {
    public PathRun {
        outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
        nanos = Collections.unmodifiableMap(new LinkedHashMap<>(nanos));
        Objects.requireNonNull(where, "where");
    }
}
