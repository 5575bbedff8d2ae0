package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.NumericOverflowException;
import dev.mmca.testing.OverflowChecks;
import org.junit.jupiter.api.Test;

/** Overflow of float32 from finite inputs is an error naming where, on the Java backend. */
class JavaOverflowTest {

    @Test
    void hugeWeightIsRefused() {
        OverflowChecks.hugeWeightIsRefused(JavaBackend.instance());
    }

    @Test
    void aRowWhoseEveryVisibleScoreIsMinusInfinityIsRefused() {
        OverflowChecks.scoresOverflowingDownwardsAreRefused(JavaBackend.instance()::attention, false);
        OverflowChecks.harmlessInfiniteScoresStillCompute(JavaBackend.instance()::attention);
    }

    @Test
    void theMessageNamesTheOperationAndThePlace() {
        NumericOverflowException e = OverflowChecks.scaledTokensAreRefused(JavaBackend.instance());
        assertTrue(e.getMessage().startsWith("visual_self_attn.attention: the attention scores overflowed float32 at"
                + " batch element 0, query 0"), e.getMessage());
    }
}
