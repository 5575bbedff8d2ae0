package dev.mmca.plan;

import dev.mmca.HeadMapping;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Writes an {@link AttentionOp} as the C block {@code mmca_attention_params}
 * ({@code native/include/mmca/attention_params.h}), the one encoding both native libraries take, at the byte
 * offsets that header fixes with static assertions. The CPU and CUDA backends call {@link #write} and
 * nothing else to describe an attention problem to native code.
 */
public final class AttentionParamsLayout {
    /** {@code sizeof(mmca_attention_params)}; a {@code mmca_text_params} is two blocks back to back. */
    public static final int SIZE = 208;
    public static final int Q = 0;
    public static final int K = 8;
    public static final int V = 16;
    public static final int O = 24;
    /** Batch, row and head stride of q; k, v and o follow, 24 bytes apart. */
    public static final int Q_STRIDES = 32;
    public static final int K_STRIDES = 56;
    public static final int V_STRIDES = 80;
    public static final int O_STRIDES = 104;
    public static final int KEY_MASK = 128;
    public static final int KEY_MASK_BATCH_STRIDE = 136;
    public static final int QUERY_MASK = 144;
    public static final int QUERY_MASK_BATCH_STRIDE = 152;
    public static final int BATCH = 160;
    public static final int HEADS = 164;
    public static final int KV_HEADS = 168;
    public static final int QUERIES = 172;
    public static final int KEYS = 176;
    public static final int DIM_HEAD = 180;
    public static final int SCALE = 184;
    public static final int CAUSAL = 188;
    public static final int QK_NORM = 192;
    public static final int HEAD_MAPPING = 196;
    public static final int DTYPE = 200;
    public static final int RESERVED = 204;

    /** {@code enum mmca_head_mapping}. */
    public static final int HEAD_MAPPING_MODULO = 0;
    public static final int HEAD_MAPPING_GROUPED = 1;
    /** {@code enum mmca_dtype}. */
    public static final int DTYPE_F32 = 0;
    public static final int DTYPE_F16 = 1;
    public static final int DTYPE_BF16 = 2;

    private AttentionParamsLayout() {
    }

    /** Where a backend keeps the buffers of one run: the address of each buffer's element 0. */
    public interface Addresses {
        long address(Buffer buffer);
    }

    /**
     * Writes {@code op} at {@code dst[position, position + SIZE)}: addresses of q, k, v, o (buffer address plus
     * the operand's offset times {@code elementBytes}), masks (or 0), strides, sizes and flags. {@code dst}
     * must be in native byte order.
     */
    public static void write(AttentionOp op, Addresses at, int dtype, int elementBytes, ByteBuffer dst, int position) {
        if (dst.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException("dst: expected native byte order, got " + dst.order());
        }
        operand(op.q(), at, elementBytes, dst, position + Q, position + Q_STRIDES);
        operand(op.k(), at, elementBytes, dst, position + K, position + K_STRIDES);
        operand(op.v(), at, elementBytes, dst, position + V, position + V_STRIDES);
        operand(op.o(), at, elementBytes, dst, position + O, position + O_STRIDES);
        dst.putLong(position + KEY_MASK, op.keyMask() == null ? 0 : at.address(op.keyMask()));
        dst.putLong(position + KEY_MASK_BATCH_STRIDE, op.keyMaskBatchStride());
        dst.putLong(position + QUERY_MASK, op.queryMask() == null ? 0 : at.address(op.queryMask()));
        dst.putLong(position + QUERY_MASK_BATCH_STRIDE, op.queryMaskBatchStride());
        dst.putInt(position + BATCH, op.batch());
        dst.putInt(position + HEADS, op.heads());
        dst.putInt(position + KV_HEADS, op.kvHeads());
        dst.putInt(position + QUERIES, op.queries());
        dst.putInt(position + KEYS, op.keys());
        dst.putInt(position + DIM_HEAD, op.dimHead());
        dst.putFloat(position + SCALE, op.scale());
        dst.putInt(position + CAUSAL, op.causal() ? 1 : 0);
        dst.putInt(position + QK_NORM, op.qkNorm() ? 1 : 0);
        dst.putInt(position + HEAD_MAPPING, headMapping(op.headMapping()));
        dst.putInt(position + DTYPE, dtype);
        dst.putInt(position + RESERVED, 0);
    }

    /** The {@code enum mmca_head_mapping} value. */
    public static int headMapping(HeadMapping m) {
        return m == HeadMapping.GROUPED ? HEAD_MAPPING_GROUPED : HEAD_MAPPING_MODULO;
    }

    private static void operand(AttentionOp.Operand x, Addresses at, int elementBytes, ByteBuffer dst, int pointer,
            int strides) {
        dst.putLong(pointer, at.address(x.buffer()) + x.offset() * elementBytes);
        dst.putLong(strides, x.batchStride());
        dst.putLong(strides + 8, x.rowStride());
        dst.putLong(strides + 16, x.headStride());
    }
}
