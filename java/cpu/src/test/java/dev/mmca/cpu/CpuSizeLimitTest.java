package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.plan.SimpleMmcaPlan;
import org.junit.jupiter.api.Test;

/** A call whose tensors exceed the machine's memory is refused up front, naming the largest tensor. */
class CpuSizeLimitTest {
    @Test
    void callsBeyondTheMachinesMemoryAreRefusedBeforeAllocating() {
        // dim 8, 64 heads of 64, 524289 visual rows: the visual q|k|v alone is 524289 x 12288 floats (25.8 GB)
        MmcaConfig c = MmcaConfig.builder().dim(8).heads(64).dimHead(64).build();
        SimpleMmcaPlan.Forward f = SimpleMmcaPlan.of(c).forward(524289, 1, 1, false, false);
        long bytes = f.plan.arenaElements() * 4;
        long available = MemoryInfo.availableBytes();
        assertTrue(available > 0, "MemAvailable readable");
        if (bytes <= available) {
            return;  // a machine with that much memory would run it
        }
        IllegalArgumentException e;
        try (SimpleMmca model = SimpleMmca.create(c, MmcaWeights.random(c, 1), new CpuBackend())) {
            FloatTensor v = FloatTensor.zeros(524289, 1, 8);
            e = assertThrows(IllegalArgumentException.class, () -> model.forward(v, v));
        }
        assertTrue(e.getMessage().startsWith("cpu backend: this call needs ") && e.getMessage().contains(
                "textual_self_attn.qkv+cross_attn.q [524289, 16384]") && e.getMessage().contains("use a smaller batch"),
                e.getMessage());
    }
}
