package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.NumericOverflowException;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.InterleavedChecks;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Interleaved attention on the pure-Java backend (SPEC "Interleaved MMCA") against the float64 oracle. */
class JavaInterleavedTest {
    static Stream<InterleavedCases.Case> cases() {
        return InterleavedCases.sweep(30).stream();
    }

    static Stream<InterleavedCases.Case> decodingCases() {
        return InterleavedChecks.decodingCases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesTheOracle(InterleavedCases.Case c) {
        InterleavedChecks.forwardMatchesTheOracle(JavaBackend.instance(), c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void attentionCallMatchesTheOracle(InterleavedCases.Case c) {
        InterleavedChecks.attentionCallMatchesTheOracle(JavaBackend.instance(), c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodingCases")
    void decodingEqualsTheForward(InterleavedCases.Case c) {
        InterleavedChecks.decodingEqualsTheForward(JavaBackend.instance(), c);
    }

    @Test
    void directTensorsGiveTheSameRows() {
        InterleavedChecks.directTensorsGiveTheSameRows(JavaBackend.instance());
    }

    @Test
    void sessionRulesAndRollback() {
        InterleavedChecks.sessionRulesAndRollback(JavaBackend.instance());
    }

    @Test
    void badInputsAreRefused() {
        InterleavedChecks.badInputsAreRefused(JavaBackend.instance());
    }

    @Test
    void aGroupWhoseEveryScoreIsMinusInfinityIsAnError() {
        InterleavedChecks.aGroupWhoseScoresOverflowDownwardsIsRefused(JavaBackend.instance()::attention, false);
        InterleavedChecks.minusInfiniteScoresBesideFiniteOnesStillCompute(JavaBackend.instance()::attention);
    }

    @Test
    void overflowIsAnError() {
        NumericOverflowException e = InterleavedChecks.overflowIsAnError(JavaBackend.instance());
        assertTrue(e.getMessage().startsWith("attention: the attention scores overflowed float32 at batch element 0,"
                + " query 0"), e.getMessage());
    }
}
