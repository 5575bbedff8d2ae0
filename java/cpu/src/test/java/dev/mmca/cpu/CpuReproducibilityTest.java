package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.testing.RandomInputs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bit-identical results run to run and for every thread count (work is split by independent outputs). */
class CpuReproducibilityTest {
    private final int initialThreads = CpuRuntime.threads();

    @AfterEach
    void restoreThreads() {
        CpuRuntime.setThreads(initialThreads);
    }

    @Test
    void modelOutputIsBitIdenticalAcrossRunsAndThreadCounts() {
        // Large enough for several GEMM blocks and attention work items.
        MmcaConfig config = MmcaConfig.builder().dim(192).heads(8).kvHeads(2).dimHead(64).composition(Composition.CROSS)
                .build();
        MmcaWeights w = MmcaWeights.random(config, 11);
        MmcaInputs in = new MmcaInputs(RandomInputs.normal(1, 3, 150, 192), RandomInputs.normal(2, 3, 130, 192),
                RandomInputs.randomLengths(3, 3, 150, 100), RandomInputs.randomLengths(4, 3, 130, 90));
        try (SimpleMmca model = SimpleMmca.create(config, w, new CpuBackend())) {
            CpuRuntime.setThreads(1);
            MmcaOutput first = model.forward(in);
            for (int threads : new int[] {1, 2, 8, 3}) {
                CpuRuntime.setThreads(threads);
                for (int run = 0; run < 2; run++) {
                    MmcaOutput again = model.forward(in);
                    assertArrayEquals(first.visual().toArray(), again.visual().toArray(), "visual, threads " + threads);
                    assertArrayEquals(first.text().toArray(), again.text().toArray(), "text, threads " + threads);
                }
            }
        }
    }

    @Test
    void attentionIsBitIdenticalAcrossRunsAndThreadCounts() {
        AttentionProblem p = AttentionProblem.builder().batch(2).heads(16).kvHeads(4).queries(333).keys(401)
                .dimHead(64).causal(true).keyMask(RandomInputs.scattered(5, 2, 401, 0.9)).build();
        FloatTensor[] t = CpuAttentionParityTest.inputs(p, 77, true);
        CpuBackend cpu = new CpuBackend();
        CpuRuntime.setThreads(1);
        cpu.attention(p, t[0], t[1], t[2], t[3]);
        float[] first = t[3].toArray();
        for (int threads : new int[] {1, 2, 8}) {
            CpuRuntime.setThreads(threads);
            FloatTensor out = FloatTensor.allocateDirect(t[3].shape());
            cpu.attention(p, t[0], t[1], t[2], out);
            assertArrayEquals(first, out.toArray(), "threads " + threads);
        }
    }

    @Test
    void decodingStepsAreBitIdenticalAcrossThreadCounts() {
        // one- and three-token steps take the few-rows projection; a long cache splits the keys across threads
        MmcaConfig config = MmcaConfig.builder().dim(320).heads(8).kvHeads(2).dimHead(64).composition(Composition.CROSS)
                .build();
        MmcaWeights w = MmcaWeights.random(config, 12);
        FloatTensor v = RandomInputs.normal(6, 2, 300, 320);
        FloatTensor t = RandomInputs.normal(7, 2, 700, 320);
        float[] first = null;
        try (SimpleMmca model = SimpleMmca.create(config, w, new CpuBackend())) {
            for (int threads : new int[] {1, 2, 8, 3}) {
                CpuRuntime.setThreads(threads);
                try (dev.mmca.VisualContext ctx = model.encodeVisual(v, null);
                        dev.mmca.TextSession session = model.newTextSession(ctx, 700)) {
                    session.append(t.tokens(0, 690), null);
                    FloatTensor one = session.append(t.tokens(690, 1), null);
                    FloatTensor three = session.append(t.tokens(691, 3), null);
                    float[] got = new float[one.size() + three.size()];
                    one.copyTo(got, 0);
                    three.copyTo(got, one.size());
                    if (first == null) {
                        first = got;
                    } else {
                        assertArrayEquals(first, got, "threads " + threads);
                    }
                }
            }
        }
    }
}
