package dev.mmca.plan;

import java.util.Locale;

/**
 * What {@code mmca_attention_params_format} (native/include/mmca/attention_params.h) prints for a block that
 * {@link AttentionParamsLayout#write} wrote (and {@code mmca_interleaved_params_format} for an interleaved one),
 * computed from the op itself: the native tests of both libraries
 * compare the two, which checks every field of the encoding, not only its size.
 */
public final class ParamsFormat {
    private ParamsFormat() {
    }

    public static String expected(AttentionOp op, AttentionParamsLayout.Addresses at, int dtype, int elementBytes) {
        return String.format(Locale.ROOT,
                "q=%x k=%x v=%x o=%x q_strides=%s k_strides=%s v_strides=%s o_strides=%s key_mask=%x,%d"
                        + " query_mask=%x,%d batch=%d heads=%d kv_heads=%d queries=%d keys=%d dim_head=%d scale=%s"
                        + " causal=%d qk_norm=%d head_mapping=%d dtype=%d reserved=0 key_lengths=%x query_positions=%x,%d",
                pointer(op.q(), at, elementBytes), pointer(op.k(), at, elementBytes), pointer(op.v(), at, elementBytes),
                pointer(op.o(), at, elementBytes), strides(op.q()), strides(op.k()), strides(op.v()), strides(op.o()),
                op.keyMask() == null ? 0 : at.address(op.keyMask()), op.keyMaskBatchStride(),
                op.queryMask() == null ? 0 : at.address(op.queryMask()), op.queryMaskBatchStride(),
                op.batch(), op.heads(), op.kvHeads(), op.queries(), op.keys(), op.dimHead(), g9(op.scale()),
                op.causal() ? 1 : 0, op.qkNorm() ? 1 : 0, AttentionParamsLayout.headMapping(op.headMapping()), dtype,
                op.keyLengths() == null ? 0 : at.address(op.keyLengths()),
                op.queryPositions() == null ? 0 : at.address(op.queryPositions()), op.queryPositionsBatchStride());
    }

    /** What {@code mmca_interleaved_params_format} prints for a block {@link InterleavedParamsLayout#write} wrote. */
    public static String expected(InterleavedAttentionOp op, AttentionParamsLayout.Addresses at, int dtype,
            int elementBytes) {
        return expected(op.attention(), at, dtype, elementBytes) + String.format(Locale.ROOT,
                " modality=%x,%d image_rule=%d reserved=0", at.address(op.modality()), op.modalityBatchStride(),
                InterleavedParamsLayout.imageRule(op.imageAttention()));
    }

    private static long pointer(AttentionOp.Operand x, AttentionParamsLayout.Addresses at, int elementBytes) {
        return at.address(x.buffer()) + x.offset() * elementBytes;
    }

    private static String strides(AttentionOp.Operand x) {
        return x.batchStride() + "," + x.rowStride() + "," + x.headStride();
    }

    /** C's {@code %.9g} of a float widened to double, for values in [1e-4, 1e9) (no exponent form). */
    static String g9(float f) {
        if (!(Math.abs(f) >= 1e-4 && Math.abs(f) < 1e9)) {
            throw new IllegalArgumentException("scale " + f + ": pick a test value in [1e-4, 1e9)");
        }
        return new java.math.BigDecimal((double) f).round(new java.math.MathContext(9)).stripTrailingZeros()
                .toPlainString();
    }
}
