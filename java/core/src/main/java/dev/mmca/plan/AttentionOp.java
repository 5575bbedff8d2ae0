package dev.mmca.plan;

import dev.mmca.HeadMapping;
import java.util.Objects;

/**
 * One fused masked grouped-query attention problem (SPEC steps 2 to 5) over plan buffers: the Java
 * description of {@code mmca_attention_params} ({@code native/include/mmca/attention_params.h}), with
 * element offsets into buffers where the C block has pointers. Every backend encodes this one
 * description; the strides are computed here, by {@link Builder}, and nowhere else.
 *
 * <pre>
 *   out[b, i, h, :] = sum_j softmax_j(scale * q[b, i, h, :] . k[b, j, g(h), :]) v[b, j, g(h), :]
 * </pre>
 * over the keys j that query i may see: {@code keyMask[b, j]} (when given) and, when causal,
 * {@code j <= i + (keys - queries)}. A query with no visible key, or with {@code queryMask[b, i] == 0},
 * gets a zero row.
 */
public final class AttentionOp implements Op {
    /**
     * Where one of q, k, v or o lives: {@code buffer} from element {@code offset}, viewed as
     * {@code [batch, rows, heads, dimHead]} through 64-bit element strides.
     */
    public record Operand(Buffer buffer, long offset, long batchStride, long rowStride, long headStride) {
        /** The element of (batch element b, row i, head h, column 0), relative to the buffer's start. */
        public long index(int b, int i, int h) {
            return offset + b * batchStride + i * rowStride + h * headStride;
        }
    }

    private final String name;
    private final Operand q;
    private final Operand k;
    private final Operand v;
    private final Operand o;
    private final Buffer keyMask;
    private final Buffer queryMask;
    private final int batch;
    private final int heads;
    private final int kvHeads;
    private final int queries;
    private final int keys;
    private final int dimHead;
    private final float scale;
    private final boolean causal;
    private final boolean qkNorm;
    private final HeadMapping headMapping;

    private AttentionOp(Builder b) {
        this.name = b.name;
        this.batch = b.batch;
        this.heads = b.heads;
        this.kvHeads = b.kvHeads;
        this.queries = b.queries;
        this.keys = b.keys;
        this.dimHead = b.dimHead;
        this.scale = b.scale;
        this.causal = b.causal;
        this.qkNorm = b.qkNorm;
        this.headMapping = b.headMapping;
        this.q = operand("q", b.qBuffer, b.qColumn, queries, heads);
        this.k = operand("k", b.kBuffer, b.kColumn, keys, kvHeads);
        this.v = operand("v", b.vBuffer, b.vColumn, keys, kvHeads);
        this.o = operand("o", b.oBuffer, b.oColumn, queries, heads);
        this.keyMask = mask("keyMask", b.keyMask, keys);
        this.queryMask = mask("queryMask", b.queryMask, queries);
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /**
     * The view of heads {@code [column, column + heads * dimHead)} of a token buffer with
     * {@code rowsPerBatch} rows per batch element: batch stride {@code rowsPerBatch * width}, row stride
     * {@code width}, head stride {@code dimHead}.
     */
    private Operand operand(String what, Buffer buffer, int column, int rowsPerBatch, int headCount) {
        Objects.requireNonNull(buffer, name + "." + what);
        if (buffer.type() != Buffer.Type.F32) {
            throw new IllegalArgumentException(name + "." + what + ": expected a float buffer, got " + buffer);
        }
        if ((long) batch * rowsPerBatch != buffer.rows()) {
            throw new IllegalArgumentException(name + "." + what + ": expected " + batch + " x " + rowsPerBatch
                    + " rows, got " + buffer);
        }
        if (column < 0 || column + (long) headCount * dimHead > buffer.width()) {
            throw new IllegalArgumentException(name + "." + what + ": columns [" + column + ", "
                    + (column + (long) headCount * dimHead) + ") do not fit " + buffer);
        }
        long width = buffer.width();
        return new Operand(buffer, column, rowsPerBatch * width, width, dimHead);
    }

    private Buffer mask(String what, Buffer m, int length) {
        if (m != null && (m.type() != Buffer.Type.U8 || m.rows() != batch || m.width() != length)) {
            throw new IllegalArgumentException(name + "." + what + ": expected a [" + batch + ", " + length
                    + "] byte mask, got " + m);
        }
        return m;
    }

    @Override
    public String name() { return name; }
    public Operand q() { return q; }
    public Operand k() { return k; }
    public Operand v() { return v; }
    public Operand o() { return o; }
    /** {@code [batch, keys]} bytes, 1 = real key; null = every key real. */
    public Buffer keyMask() { return keyMask; }
    /** {@code [batch, queries]} bytes; rows with 0 get zero output; null = every query real. */
    public Buffer queryMask() { return queryMask; }
    /** Batch stride of the key mask in bytes (its width). */
    public long keyMaskBatchStride() { return keyMask == null ? 0 : keyMask.width(); }
    public long queryMaskBatchStride() { return queryMask == null ? 0 : queryMask.width(); }
    public int batch() { return batch; }
    public int heads() { return heads; }
    public int kvHeads() { return kvHeads; }
    public int queries() { return queries; }
    public int keys() { return keys; }
    public int dimHead() { return dimHead; }
    public float scale() { return scale; }
    public boolean causal() { return causal; }
    public boolean qkNorm() { return qkNorm; }
    public HeadMapping headMapping() { return headMapping; }

    @Override
    public void accept(Visitor visitor) {
        visitor.attention(this);
    }

    @Override
    public String toString() {
        return name + "{B=" + batch + ", H=" + heads + ", G=" + kvHeads + ", N=" + queries + ", M=" + keys + ", D="
                + dimHead + ", causal=" + causal + ", qkNorm=" + qkNorm + ", " + headMapping + "}";
    }

    /** Sizes, flags and the four operands as (buffer, first column); strides follow from the buffers. */
    public static final class Builder {
        private final String name;
        private int batch;
        private int heads;
        private int kvHeads;
        private int queries;
        private int keys;
        private int dimHead;
        private float scale;
        private boolean causal;
        private boolean qkNorm;
        private HeadMapping headMapping = HeadMapping.MODULO;
        private Buffer qBuffer;
        private Buffer kBuffer;
        private Buffer vBuffer;
        private Buffer oBuffer;
        private int qColumn;
        private int kColumn;
        private int vColumn;
        private int oColumn;
        private Buffer keyMask;
        private Buffer queryMask;

        private Builder(String name) {
            this.name = Objects.requireNonNull(name, "name");
        }

        public Builder sizes(int batch, int heads, int kvHeads, int queries, int keys, int dimHead) {
            this.batch = batch;
            this.heads = heads;
            this.kvHeads = kvHeads;
            this.queries = queries;
            this.keys = keys;
            this.dimHead = dimHead;
            return this;
        }

        public Builder flags(float scale, boolean causal, boolean qkNorm, HeadMapping headMapping) {
            this.scale = scale;
            this.causal = causal;
            this.qkNorm = qkNorm;
            this.headMapping = Objects.requireNonNull(headMapping, "headMapping");
            return this;
        }

        /** Queries are heads {@code [column, column + H*D)} of each row of {@code buffer}. */
        public Builder q(Buffer buffer, int column) { qBuffer = buffer; qColumn = column; return this; }
        public Builder k(Buffer buffer, int column) { kBuffer = buffer; kColumn = column; return this; }
        public Builder v(Buffer buffer, int column) { vBuffer = buffer; vColumn = column; return this; }
        public Builder o(Buffer buffer, int column) { oBuffer = buffer; oColumn = column; return this; }
        /** {@code [batch, keys]} byte mask or null. */
        public Builder keyMask(Buffer m) { keyMask = m; return this; }
        /** {@code [batch, queries]} byte mask or null. */
        public Builder queryMask(Buffer m) { queryMask = m; return this; }

        public AttentionOp build() {
            if (batch <= 0 || heads <= 0 || kvHeads <= 0 || queries <= 0 || keys <= 0 || dimHead <= 0
                    || heads % kvHeads != 0) {
                throw new IllegalArgumentException(name + ": expected positive sizes with kvHeads dividing heads, got"
                        + " B=" + batch + " H=" + heads + " G=" + kvHeads + " N=" + queries + " M=" + keys + " D="
                        + dimHead);
            }
            if (!(Float.isFinite(scale) && scale > 0)) {
                throw new IllegalArgumentException(name + ".scale: expected a finite positive number, got " + scale);
            }
            return new AttentionOp(this);
        }
    }
}
