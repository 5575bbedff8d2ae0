package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import org.junit.jupiter.api.Test;

/** Tensors past 32-bit indexing are refused up front with the tensor, its size and the limit. */
class JavaSizeLimitTest {
    @Test
    void tensorsPastTheArrayLimitAreNamed() {
        // dim 8, 64 heads of 64: [524289, 1, 8] inputs make a visual q|k|v of 524289 x 12288 floats (> 2^31)
        MmcaConfig c = MmcaConfig.builder().dim(8).heads(64).dimHead(64).build();
        try (SimpleMmca model = SimpleMmca.create(c, MmcaWeights.random(c, 1), JavaBackend.instance())) {
            FloatTensor v = FloatTensor.zeros(524289, 1, 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.forward(v, v));
            assertTrue(e.getMessage().startsWith("visual_self_attn.qkv: 6442463232 elements ([524289, 12288]); the java"
                    + " backend holds at most 2147483639 per tensor"), e.getMessage());
        }
    }
}
