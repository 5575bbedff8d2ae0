package dev.mmca.plan;

/**
 * Copies columns {@code [srcColumn, srcColumn + width)} of each row r of {@code src} to row
 * {@code rows[r]} of {@code dst}, columns {@code [dstColumn, dstColumn + width)}; rows whose index is
 * negative are skipped. Incremental decoding appends the new tokens' keys and values to the cache this way
 * (padding tokens are skipped), and a growing cache moves its rows into a larger one.
 */
public record ScatterRowsOp(String name, Buffer src, int srcColumn, int width, Buffer dst, int dstColumn, Buffer rows)
        implements Op {
    public ScatterRowsOp {
        if (srcColumn < 0 || width <= 0 || srcColumn + width > src.width() || dstColumn < 0
                || dstColumn + width > dst.width()) {
            throw new IllegalArgumentException(name + ": columns do not fit, src " + src + " from " + srcColumn
                    + ", dst " + dst + " from " + dstColumn + ", width " + width);
        }
        if (rows.type() != Buffer.Type.I32 || rows.elements() != src.rows()) {
            throw new IllegalArgumentException(name + ": expected one int32 row index per source row, got " + rows);
        }
    }

    @Override
    public void accept(Visitor visitor) {
        visitor.scatterRows(this);
    }
}
