package dev.mmca.cuda;

import dev.mmca.HeadMapping;
import dev.mmca.backend.AttentionProblem;

/**
 * One attention problem as the flat int64 descriptor the kernel library takes (slot order of
 * {@code enum mmca_cuda_desc_slot} in {@code native/cuda/include/mmca_cuda/api.h}): device
 * addresses, element strides of {@code [batch, rows, heads, dimHead]} views, sizes and flags.
 */
final class AttentionDescriptor {
    static final int Q = 0, K = 1, V = 2, O = 3;
    static final int Q_STRIDES = 4, K_STRIDES = 7, V_STRIDES = 10, O_STRIDES = 13;
    static final int KEY_MASK = 16, KEY_MASK_BATCH_STRIDE = 17, QUERY_MASK = 18, QUERY_MASK_BATCH_STRIDE = 19;
    static final int BATCH = 20, HEADS = 21, KV_HEADS = 22, QUERIES = 23, KEYS = 24, DIM_HEAD = 25;
    static final int SCALE_BITS = 26, CAUSAL = 27, QK_NORM = 28, HEAD_MAPPING = 29, DTYPE = 30;
    static final int LENGTH = 31;

    private final long[] slots = new long[LENGTH];

    /** Sizes and flags of {@code problem}, with dense packed strides ({@code q/out [B, N, H*D]}, {@code k/v [B, M, G*D]}). */
    static AttentionDescriptor of(AttentionProblem problem, CudaDtype dtype) {
        AttentionDescriptor d = new AttentionDescriptor();
        long hd = (long) problem.heads() * problem.dimHead();
        long gd = (long) problem.kvHeads() * problem.dimHead();
        d.sizes(problem.batch(), problem.heads(), problem.kvHeads(), problem.queries(), problem.keys(),
                problem.dimHead());
        d.flags(problem.scale(), problem.causal(), problem.qkNorm(), problem.headMapping(), dtype);
        d.strides(Q_STRIDES, problem.queries() * hd, hd, problem.dimHead());
        d.strides(K_STRIDES, problem.keys() * gd, gd, problem.dimHead());
        d.strides(V_STRIDES, problem.keys() * gd, gd, problem.dimHead());
        d.strides(O_STRIDES, problem.queries() * hd, hd, problem.dimHead());
        return d;
    }

    AttentionDescriptor sizes(int batch, int heads, int kvHeads, int queries, int keys, int dimHead) {
        slots[BATCH] = batch;
        slots[HEADS] = heads;
        slots[KV_HEADS] = kvHeads;
        slots[QUERIES] = queries;
        slots[KEYS] = keys;
        slots[DIM_HEAD] = dimHead;
        return this;
    }

    AttentionDescriptor flags(float scale, boolean causal, boolean qkNorm, HeadMapping mapping, CudaDtype dtype) {
        slots[SCALE_BITS] = Float.floatToRawIntBits(scale) & 0xffffffffL;
        slots[CAUSAL] = causal ? 1 : 0;
        slots[QK_NORM] = qkNorm ? 1 : 0;
        slots[HEAD_MAPPING] = mapping == HeadMapping.MODULO ? 0 : 1;
        slots[DTYPE] = dtype.code();
        return this;
    }

    /** Batch, row and head strides (elements) of the tensor whose first stride slot is {@code first}. */
    AttentionDescriptor strides(int first, long batchStride, long rowStride, long headStride) {
        slots[first] = batchStride;
        slots[first + 1] = rowStride;
        slots[first + 2] = headStride;
        return this;
    }

    AttentionDescriptor pointers(long q, long k, long v, long o) {
        slots[Q] = q;
        slots[K] = k;
        slots[V] = v;
        slots[O] = o;
        return this;
    }

    /** Device addresses of {@code [B, keys]} / {@code [B, queries]} byte masks (0 = none). */
    AttentionDescriptor masks(long keyMask, long keyMaskBatchStride, long queryMask, long queryMaskBatchStride) {
        slots[KEY_MASK] = keyMask;
        slots[KEY_MASK_BATCH_STRIDE] = keyMaskBatchStride;
        slots[QUERY_MASK] = queryMask;
        slots[QUERY_MASK_BATCH_STRIDE] = queryMaskBatchStride;
        return this;
    }

    long get(int slot) {
        return slots[slot];
    }

    long[] slots() {
        return slots;
    }
}
