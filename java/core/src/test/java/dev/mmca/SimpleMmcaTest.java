package dev.mmca;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.java.JavaBackend;
import dev.mmca.testing.RandomInputs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class SimpleMmcaTest {
    static final MmcaConfig CONFIG = MmcaConfig.builder().dim(32).heads(4).kvHeads(2).dimHead(8).build();

    static SimpleMmca model() {
        return SimpleMmca.create(CONFIG, MmcaWeights.random(CONFIG, 1), JavaBackend.instance());
    }

    @Test
    void useAfterCloseThrowsAClearException() {
        SimpleMmca m = model();
        m.close();
        m.close(); // idempotent
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> m.forward(RandomInputs.normal(1, 1, 2, 32), RandomInputs.normal(2, 1, 2, 32)));
        assertTrue(e.getMessage().contains("after close()"), e.getMessage());
    }

    @Test
    void rejectsBadInputsNamingTheArgument() {
        try (SimpleMmca m = model()) {
            FloatTensor v = RandomInputs.normal(1, 2, 3, 32);
            FloatTensor t = RandomInputs.normal(2, 2, 4, 32);
            assertMessage("visual:", () -> m.forward(RandomInputs.normal(1, 2, 3, 31), t));
            assertMessage("text:", () -> m.forward(v, RandomInputs.normal(2, 3, 4, 32)));
            assertMessage("text:", () -> m.forward(v, RandomInputs.normal(2, 2, 4)));
            assertMessage("visualMask:", () -> m.forward(v, t, Mask.all(2, 4), null));
            assertMessage("textMask:", () -> m.forward(v, t, null, Mask.all(1, 4)));
            FloatTensor nan = RandomInputs.normal(3, 2, 4, 32);
            nan.set(37, Float.NaN);
            IllegalArgumentException e = assertMessage("text:", () -> m.forward(v, nan));
            assertTrue(e.getMessage().contains("NaN") && e.getMessage().contains("[0, 1, 5]"), e.getMessage());
            FloatTensor inf = RandomInputs.normal(3, 2, 3, 32);
            inf.set(0, Float.POSITIVE_INFINITY);
            assertMessage("visual:", () -> m.forward(inf, t));
            assertMessage("visualOut:", () -> m.forwardInto(new MmcaInputs(v, t, null, null),
                    FloatTensor.zeros(2, 3, 30), FloatTensor.zeros(2, 4, 32)));
        }
    }

    @Test
    void seedRequiresAsManyTextAsVisualTokens() {
        MmcaConfig seed = CONFIG.toBuilder().composition(Composition.SEED).build();
        try (SimpleMmca m = SimpleMmca.create(seed, MmcaWeights.random(seed, 1), JavaBackend.instance())) {
            IllegalArgumentException e = assertMessage("text:",
                    () -> m.forward(RandomInputs.normal(1, 1, 3, 32), RandomInputs.normal(2, 1, 4, 32)));
            assertTrue(e.getMessage().contains("SEED"), e.getMessage());
        }
    }

    @Test
    void weightsThatContradictTheConfigAreRejectedByName() {
        MmcaConfig other = CONFIG.toBuilder().kvHeads(4).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SimpleMmca.create(CONFIG, MmcaWeights.random(other, 1), JavaBackend.instance()));
        assertTrue(e.getMessage().startsWith("visual_self_attn.to_k.weight: expected shape [16, 32]"), e.getMessage());
    }

    @Test
    void directBufferMustBeNativeOrderAndLargeEnough() {
        java.nio.FloatBuffer wrong = ByteBuffer.allocateDirect(64).order(ByteOrder.BIG_ENDIAN.equals(
                ByteOrder.nativeOrder()) ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN).asFloatBuffer();
        assertMessage("data:", () -> FloatTensor.wrap(wrong, 4, 4));
        java.nio.FloatBuffer small = ByteBuffer.allocateDirect(16).order(ByteOrder.nativeOrder()).asFloatBuffer();
        assertMessage("data:", () -> FloatTensor.wrap(small, 2, 4));
        assertMessage("data:", () -> FloatTensor.wrap(java.nio.FloatBuffer.allocate(8), 2, 4));
        assertMessage("data:", () -> FloatTensor.of(new float[7], 2, 4));
    }

    @Test
    void resultsAreBitIdenticalRunToRunAndAcrossCallingThreads() throws Exception {
        FloatTensor v = RandomInputs.normal(1, 3, 41, 32);
        FloatTensor t = RandomInputs.normal(2, 3, 37, 32);
        Mask tm = RandomInputs.randomLengths(3, 3, 37, 1);
        try (SimpleMmca m = model()) {
            MmcaOutput first = m.forward(v, t, null, tm);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<MmcaOutput>> futures = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    futures.add(pool.submit(() -> m.forward(v, t, null, tm)));
                }
                for (Future<MmcaOutput> f : futures) {
                    MmcaOutput o = f.get();
                    assertArrayEquals(first.visual().toArray(), o.visual().toArray());
                    assertArrayEquals(first.text().toArray(), o.text().toArray());
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void eachRecordAloneEqualsTheSameRecordInAPaddedBatch() {
        // batching must not change a record's numbers: compute record 1 alone, then inside a padded batch
        FloatTensor v = RandomInputs.normal(1, 2, 6, 32);
        FloatTensor t = RandomInputs.normal(2, 2, 5, 32);
        Mask vm = Mask.fromLengths(new int[] {6, 4}, 6);
        Mask tm = Mask.fromLengths(new int[] {5, 3}, 5);
        try (SimpleMmca m = model()) {
            MmcaOutput batch = m.forward(v, t, vm, tm);
            float[] v1 = new float[4 * 32];
            float[] t1 = new float[3 * 32];
            System.arraycopy(v.toArray(), 6 * 32, v1, 0, v1.length);
            System.arraycopy(t.toArray(), 5 * 32, t1, 0, t1.length);
            MmcaOutput alone = m.forward(FloatTensor.of(v1, 1, 4, 32), FloatTensor.of(t1, 1, 3, 32));
            for (int i = 0; i < 3 * 32; i++) {
                assertEquals(alone.text().get(i), batch.text().get(5 * 32 + i), 1e-6f, "text element " + i);
            }
            for (int i = 0; i < 4 * 32; i++) {
                assertEquals(alone.visual().get(i), batch.visual().get(6 * 32 + i), 1e-6f, "visual element " + i);
            }
        }
    }

    static IllegalArgumentException assertMessage(String prefix, org.junit.jupiter.api.function.Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().startsWith(prefix), "expected '" + prefix + "...', got: " + ex.getMessage());
        assertTrue(ex.getMessage().contains("expected") && ex.getMessage().contains("got"), ex.getMessage());
        return ex;
    }
}
