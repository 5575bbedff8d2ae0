package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.PreparedModel;
import dev.mmca.FloatTensor;
import dev.mmca.testing.RandomInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** One model used from 8 threads at once gives exactly the sequential results. */
class CpuConcurrencyTest {
    @Test
    void eightThreadsShareOneModel() throws Exception {
        MmcaConfig config = MmcaConfig.builder().dim(96).heads(8).kvHeads(4).dimHead(32).qkNorm(true).build();
        MmcaWeights w = MmcaWeights.random(config, 3);
        int calls = 8 * 6;
        List<MmcaInputs> inputs = new ArrayList<>();
        for (int i = 0; i < calls; i++) {
            FloatTensor v = RandomInputs.normal(100 + i, 2, 20 + i % 7, 96);
            FloatTensor t = RandomInputs.normal(200 + i, 2, 11 + i % 5, 96);
            inputs.add(new MmcaInputs(i % 2 == 0 ? v : RandomInputs.direct(v), t, null,
                    RandomInputs.randomLengths(i, 2, 11 + i % 5, 1)));
        }
        try (SimpleMmca model = SimpleMmca.create(config, w, new CpuBackend())) {
            List<MmcaOutput> sequential = new ArrayList<>();
            for (MmcaInputs in : inputs) {
                sequential.add(model.forward(in));
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<MmcaOutput>> futures = new ArrayList<>();
                for (MmcaInputs in : inputs) {
                    futures.add(pool.submit(() -> model.forward(in)));
                }
                for (int i = 0; i < calls; i++) {
                    MmcaOutput got = futures.get(i).get(60, TimeUnit.SECONDS);
                    assertArrayEquals(sequential.get(i).visual().toArray(), got.visual().toArray(), "visual " + i);
                    assertArrayEquals(sequential.get(i).text().toArray(), got.text().toArray(), "text " + i);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void preparedModelItselfIsSafeForConcurrentForwards() throws Exception {
        MmcaConfig config = MmcaConfig.builder().dim(64).heads(4).kvHeads(2).dimHead(16).build();
        MmcaInputs in = new MmcaInputs(RandomInputs.normal(1, 1, 33, 64), RandomInputs.normal(2, 1, 17, 64), null, null);
        try (PreparedModel m = new CpuBackend().prepare(config, MmcaWeights.random(config, 9))) {
            FloatTensor v0 = FloatTensor.zeros(1, 33, 64);
            FloatTensor t0 = FloatTensor.zeros(1, 17, 64);
            m.forward(in, v0, t0);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                List<Future<float[]>> futures = new ArrayList<>();
                for (int i = 0; i < 64; i++) {
                    futures.add(pool.submit(() -> {
                        FloatTensor v = FloatTensor.allocateDirect(1, 33, 64);
                        FloatTensor t = FloatTensor.zeros(1, 17, 64);
                        m.forward(in, v, t);
                        float[] both = new float[v.size() + t.size()];
                        v.copyTo(both, 0);
                        t.copyTo(both, v.size());
                        return both;
                    }));
                }
                float[] expected = new float[v0.size() + t0.size()];
                v0.copyTo(expected, 0);
                t0.copyTo(expected, v0.size());
                for (Future<float[]> f : futures) {
                    assertArrayEquals(expected, f.get(60, TimeUnit.SECONDS));
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
