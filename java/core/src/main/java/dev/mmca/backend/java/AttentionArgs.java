package dev.mmca.backend.java;

import dev.mmca.HeadMapping;
import dev.mmca.plan.AttentionOp;

/**
 * The Java encoding of an {@link AttentionOp} (itself the twin of {@code mmca_attention_params}): arrays with
 * element offsets where the C block has pointers, the op's strides as they are, so one kernel reads q, k
 * and v out of a packed projection and writes into one half of a wider output.
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
    /** {@code [batch]} valid keys per batch element, or null (all). */
    int[] keyLengths;
    /** {@code [batch, queries]} causal positions (stride {@link #queryPositionsBatchStride}), or null. */
    int[] queryPositions;
    int queryPositionsBatchStride;
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

    /** The query heads reading kv head {@code g}, in head order ({@code heads / kvHeads} of them). */
    int[] queryHeads(int g) {
        int[] qHeads = new int[heads / kvHeads];
        for (int h = 0, n = 0; h < heads; h++) {
            if (headMapping.kvHeadOf(h, heads, kvHeads) == g) {
                qHeads[n++] = h;
            }
        }
        return qHeads;
    }

    /** The keys batch element {@code b} holds: its key length clamped to {@code [0, keys]}, or all of them. */
    int keyLength(int b) {
        return keyLengths == null ? keys : Math.max(0, Math.min(keys, keyLengths[b]));
    }

    /**
     * The last key index query i of batch element b may see (-1: none): below the element's key length and, when
     * causal, at most the query's position (given, or right-aligned {@code i + keys - queries}).
     */
    int lastVisibleKey(int b, int i) {
        long last = keyLength(b) - 1;
        if (causal) {
            long pos = queryPositions != null ? queryPositions[b * queryPositionsBatchStride + i]
                    : (long) i + keys - queries;
            last = Math.min(last, pos);
        }
        return (int) Math.max(-1, last);
    }

    /** Whether query i of batch element b is computed: the query mask lets it through and it may see some key. */
    boolean queryActive(int b, int i, int lastVisibleKey) {
        return (queryMask == null || queryMask[b * queries + i] != 0) && lastVisibleKey >= 0;
    }

    /**
     * The first key of batch element {@code b} that the key mask lets through ({@link #keys} when it hides every
     * key; 0 without a mask). A query row sees at least one key exactly when it is active and its last visible key
     * is at or past this one; that decides, without looking at a score, whether a row whose max stayed -inf
     * overflowed (every visible score -inf) or saw no key.
     */
    int firstUnmaskedKey(int b) {
        if (keyMask == null) {
            return 0;
        }
        int j = 0;
        while (j < keys && keyMask[b * keys + j] == 0) {
            j++;
        }
        return j;
    }

    /** Where a plan buffer lives in Java memory. */
    interface Memory {
        float[] array(dev.mmca.plan.Buffer b);

        /** Index in {@link #array} of the buffer's first element. */
        int base(dev.mmca.plan.Buffer b);

        byte[] mask(dev.mmca.plan.Buffer b);

        int[] ints(dev.mmca.plan.Buffer b);
    }

    static AttentionArgs of(AttentionOp op, Memory mem) {
        AttentionArgs a = new AttentionArgs();
        a.q = mem.array(op.q().buffer());
        a.qOffset = offset(op.q(), mem);
        a.qBatchStride = Math.toIntExact(op.q().batchStride());
        a.qRowStride = Math.toIntExact(op.q().rowStride());
        a.k = mem.array(op.k().buffer());
        a.kOffset = offset(op.k(), mem);
        a.kBatchStride = Math.toIntExact(op.k().batchStride());
        a.kRowStride = Math.toIntExact(op.k().rowStride());
        a.v = mem.array(op.v().buffer());
        a.vOffset = offset(op.v(), mem);
        a.vBatchStride = Math.toIntExact(op.v().batchStride());
        a.vRowStride = Math.toIntExact(op.v().rowStride());
        a.o = mem.array(op.o().buffer());
        a.oOffset = offset(op.o(), mem);
        a.oBatchStride = Math.toIntExact(op.o().batchStride());
        a.oRowStride = Math.toIntExact(op.o().rowStride());
        a.keyMask = op.keyMask() == null ? null : mem.mask(op.keyMask());
        a.queryMask = op.queryMask() == null ? null : mem.mask(op.queryMask());
        a.keyLengths = op.keyLengths() == null ? null : mem.ints(op.keyLengths());
        a.queryPositions = op.queryPositions() == null ? null : mem.ints(op.queryPositions());
        a.queryPositionsBatchStride = (int) op.queryPositionsBatchStride();
        a.batch = op.batch();
        a.heads = op.heads();
        a.kvHeads = op.kvHeads();
        a.queries = op.queries();
        a.keys = op.keys();
        a.dimHead = op.dimHead();
        a.scale = op.scale();
        a.causal = op.causal();
        a.qkNorm = op.qkNorm();
        a.headMapping = op.headMapping();
        return a;
    }

    private static int offset(AttentionOp.Operand x, Memory mem) {
        return Math.toIntExact(mem.base(x.buffer()) + x.offset());
    }
}
