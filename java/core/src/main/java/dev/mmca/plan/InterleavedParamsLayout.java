package dev.mmca.plan;

import dev.mmca.ImageAttention;
import java.nio.ByteBuffer;

/**
 * Writes an {@link InterleavedAttentionOp} as the C block {@code mmca_interleaved_params}
 * ({@code native/include/mmca/attention_params.h}): the problem as an {@code mmca_attention_params}
 * ({@link AttentionParamsLayout#write}), then the modality pointer, its batch stride, the image rule and a zero,
 * at the offsets that header fixes with static assertions.
 */
public final class InterleavedParamsLayout {
    /** {@code sizeof(mmca_interleaved_params)}. */
    public static final int SIZE = 256;
    /** The embedded {@code mmca_attention_params}. */
    public static final int ATTENTION = 0;
    public static final int MODALITY = AttentionParamsLayout.SIZE;
    public static final int MODALITY_BATCH_STRIDE = MODALITY + 8;
    public static final int IMAGE_RULE = MODALITY + 16;
    public static final int RESERVED = MODALITY + 20;

    /** {@code enum mmca_image_rule}. */
    public static final int IMAGE_RULE_SELF = 0;
    public static final int IMAGE_RULE_BLOCK = 1;

    private InterleavedParamsLayout() {
    }

    /** Writes {@code op} at {@code dst[position, position + SIZE)}; {@code dst} in native byte order. */
    public static void write(InterleavedAttentionOp op, AttentionParamsLayout.Addresses at, int dtype,
            int elementBytes, ByteBuffer dst, int position) {
        AttentionParamsLayout.write(op.attention(), at, dtype, elementBytes, dst, position + ATTENTION);
        dst.putLong(position + MODALITY, at.address(op.modality()));
        dst.putLong(position + MODALITY_BATCH_STRIDE, op.modalityBatchStride());
        dst.putInt(position + IMAGE_RULE, imageRule(op.imageAttention()));
        dst.putInt(position + RESERVED, 0);
    }

    /** The {@code enum mmca_image_rule} value. */
    public static int imageRule(ImageAttention a) {
        return a == ImageAttention.BLOCK ? IMAGE_RULE_BLOCK : IMAGE_RULE_SELF;
    }
}
