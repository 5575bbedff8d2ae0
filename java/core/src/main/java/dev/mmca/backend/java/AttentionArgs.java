package dev.mmca.backend.java;

import dev.mmca.HeadMapping;

/**
 * The Java twin of {@code mmca_attention_params} (native/include/mmca/attention_params.h): arrays,
 * element offsets and explicit strides, so one kernel reads q, k and v out of a packed projection
 * and writes into one half of a wider output.
 */
final class AttentionArgs {
    float[] q;
    int qOffset;
    int qBatchStride;
    int qRowStride;
    float[] k;
    int kOffset;
    int kBatchStride;
    int kRowStride;
    float[] v;
    int vOffset;
    int vBatchStride;
    int vRowStride;
    float[] o;
    int oOffset;
    int oBatchStride;
    int oRowStride;
    /** {@code [batch, keys]} 0/1, or null. */
    byte[] keyMask;
    /** {@code [batch, queries]} 0/1, or null. */
    byte[] queryMask;
    int batch;
    int heads;
    int kvHeads;
    int queries;
    int keys;
    int dimHead;
    float scale;
    boolean causal;
    boolean qkNorm;
    HeadMapping headMapping;

    /** q, k, v and o in their own dense {@code [B, rows, heads*D]} arrays. */
    static AttentionArgs dense(float[] q, float[] k, float[] v, float[] o, int batch, int heads, int kvHeads,
            int queries, int keys, int dimHead) {
        AttentionArgs a = new AttentionArgs();
        a.q = q;
        a.k = k;
        a.v = v;
        a.o = o;
        a.batch = batch;
        a.heads = heads;
        a.kvHeads = kvHeads;
        a.queries = queries;
        a.keys = keys;
        a.dimHead = dimHead;
        a.qRowStride = heads * dimHead;
        a.qBatchStride = queries * a.qRowStride;
        a.oRowStride = a.qRowStride;
        a.oBatchStride = a.qBatchStride;
        a.kRowStride = kvHeads * dimHead;
        a.kBatchStride = keys * a.kRowStride;
        a.vRowStride = a.kRowStride;
        a.vBatchStride = a.kBatchStride;
        return a;
    }
}
