package dev.mmca.backend.java;

import dev.mmca.testing.DecodingChecks;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Incremental decoding on the Java backend equals the full forward; rollback, growth and refusals. */
class JavaDecodingTest {
    static Stream<DecodingChecks.Case> cases() {
        return DecodingChecks.cases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stepsEqualTheForward(DecodingChecks.Case c) {
        DecodingChecks.stepsEqualTheForward(JavaBackend.instance(), c);
    }

    @Test
    void rollbackRecomputesTheSameRows() {
        DecodingChecks.rollbackRecomputesTheSameRows(JavaBackend.instance());
    }

    @Test
    void refusalsAndGrowth() throws Exception {
        DecodingChecks.refusalsAndGrowth(JavaBackend.instance());
    }
}
