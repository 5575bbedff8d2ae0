package dev.mmca.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.backend.AttentionProblem;
import org.junit.jupiter.api.Test;

class AttentionDescriptorTest {
    private static final AttentionProblem PROBLEM = AttentionProblem.builder().batch(2).heads(8).kvHeads(2)
            .queries(5).keys(7).dimHead(64).causal(true).qkNorm(true).headMapping(HeadMapping.GROUPED).build();

    @Test
    void packedLayoutStridesFollowTheTensorShapes() {
        AttentionDescriptor d = AttentionDescriptor.of(PROBLEM, CudaDtype.BF16);
        // q/out [B, N, H*D]: batch stride N*H*D, row stride H*D, head stride D
        assertEquals(5L * 8 * 64, d.get(AttentionDescriptor.Q_STRIDES));
        assertEquals(8L * 64, d.get(AttentionDescriptor.Q_STRIDES + 1));
        assertEquals(64L, d.get(AttentionDescriptor.Q_STRIDES + 2));
        assertEquals(5L * 8 * 64, d.get(AttentionDescriptor.O_STRIDES));
        // k/v [B, M, G*D]
        assertEquals(7L * 2 * 64, d.get(AttentionDescriptor.K_STRIDES));
        assertEquals(2L * 64, d.get(AttentionDescriptor.V_STRIDES + 1));
        assertEquals(64L, d.get(AttentionDescriptor.V_STRIDES + 2));
    }

    @Test
    void sizesAndFlagsAreCopied() {
        AttentionDescriptor d = AttentionDescriptor.of(PROBLEM, CudaDtype.BF16);
        assertEquals(2, d.get(AttentionDescriptor.BATCH));
        assertEquals(8, d.get(AttentionDescriptor.HEADS));
        assertEquals(2, d.get(AttentionDescriptor.KV_HEADS));
        assertEquals(5, d.get(AttentionDescriptor.QUERIES));
        assertEquals(7, d.get(AttentionDescriptor.KEYS));
        assertEquals(64, d.get(AttentionDescriptor.DIM_HEAD));
        assertEquals(10f, Float.intBitsToFloat((int) d.get(AttentionDescriptor.SCALE_BITS)));  // qkNorm scale
        assertEquals(1, d.get(AttentionDescriptor.CAUSAL));
        assertEquals(1, d.get(AttentionDescriptor.QK_NORM));
        assertEquals(1, d.get(AttentionDescriptor.HEAD_MAPPING));  // MMCA_HEAD_MAPPING_GROUPED
        assertEquals(2, d.get(AttentionDescriptor.DTYPE));  // MMCA_DTYPE_BF16
        assertEquals(AttentionDescriptor.LENGTH, d.slots().length);
    }

    @Test
    void deviceApiRejectsHostMasksAndUnsupportedHeadDims() {
        AttentionProblem masked = AttentionProblem.builder().batch(1).heads(2).kvHeads(1).queries(3).keys(3)
                .dimHead(32).keyMask(Mask.fromLengths(new int[] {2}, 3)).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CudaAttention.describe(masked, CudaPrecision.FP32, "problem"));
        assertTrue(e.getMessage().startsWith("problem: the device API takes masks as device addresses"), e.getMessage());
        AttentionProblem wide = AttentionProblem.builder().batch(1).heads(2).kvHeads(1).queries(3).keys(3)
                .dimHead(256).build();
        e = assertThrows(IllegalArgumentException.class,
                () -> CudaAttention.describe(wide, CudaPrecision.FP32, "problem"));
        assertTrue(e.getMessage().startsWith("problem.dimHead: unsupported head dim 256"), e.getMessage());
    }
}
