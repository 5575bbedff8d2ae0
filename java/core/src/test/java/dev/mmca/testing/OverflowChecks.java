package dev.mmca.testing;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.NumericOverflowException;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;

/**
 * Finite inputs whose computation exceeds float32 give a clear error, never NaN, infinities or wrong values,
 * on every backend: tokens scaled far up, and one enormous weight. Shared by the backends' test suites.
 */
public final class OverflowChecks {
    private static final MmcaConfig CONFIG = MmcaConfig.builder().dim(16).heads(4).kvHeads(2).dimHead(8).build();

    private OverflowChecks() {
    }

    /** Visual tokens scaled by 1e20: the scores overflow (a visual block operation is named); returns the error. */
    public static NumericOverflowException scaledTokensAreRefused(Backend backend) {
        MmcaWeights w = MmcaWeights.random(CONFIG, 5);
        FloatTensor v = scale(RandomInputs.normal(6, 2, 5, 16), 1e20f);
        FloatTensor t = RandomInputs.normal(7, 2, 4, 16);
        try (SimpleMmca model = SimpleMmca.create(CONFIG, w, backend)) {
            NumericOverflowException e = assertThrows(NumericOverflowException.class, () -> model.forward(v, t));
            assertTrue(e.getMessage().contains("overflowed float32"), e.getMessage());
            assertTrue(e.getMessage().contains("visual") || e.getMessage().startsWith("cuda:"), e.getMessage());
            // modest scales still compute
            model.forward(scale(RandomInputs.normal(6, 2, 5, 16), 1e3f), t);
            return e;
        }
    }

    /** One weight of 3e38 in the visual block's to_q: its projection overflows. */
    public static void hugeWeightIsRefused(Backend backend) {
        MmcaWeights w = MmcaWeights.random(CONFIG, 8);
        float[] q = w.visualSelf().toQ().toArray();
        q[3] = 3e38f;
        MgqaWeights vis = new MgqaWeights(FloatTensor.of(q, 32, 16), w.visualSelf().toK(), w.visualSelf().toV(),
                w.visualSelf().toOut());
        MmcaWeights huge = new MmcaWeights(vis, w.textualSelf(), w.cross());
        FloatTensor v = scale(RandomInputs.normal(9, 1, 3, 16), 100f);
        try (SimpleMmca model = SimpleMmca.create(CONFIG, huge, backend)) {
            NumericOverflowException e = assertThrows(NumericOverflowException.class,
                    () -> model.forward(v, RandomInputs.normal(10, 1, 3, 16)));
            assertTrue(e.getMessage().contains("overflowed float32"), e.getMessage());
        }
    }

    static FloatTensor scale(FloatTensor t, float f) {
        float[] a = t.toArray();
        for (int i = 0; i < a.length; i++) {
            a[i] *= f;
        }
        return FloatTensor.of(a, t.shape());
    }
}
