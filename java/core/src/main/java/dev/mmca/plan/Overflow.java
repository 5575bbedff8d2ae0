package dev.mmca.plan;

import dev.mmca.NumericOverflowException;

/** The one wording of a float32 overflow, for every backend: the operation, where, and what to do. */
public final class Overflow {
    private Overflow() {
    }

    /** Output element {@code index} ({@code r * width + c}) of {@code out}, written by {@code op}, is not finite. */
    public static NumericOverflowException result(Op op, Buffer out, long index) {
        long r = index / out.width();
        long c = index % out.width();
        return new NumericOverflowException(op.name() + ": the result overflowed float32 at " + out.describeRow(r)
                + ", column " + c + " of " + out.name() + ", although every input is finite: their magnitude is too"
                + " large for float32 (scale the inputs or the weights down)");
    }

    /** Row {@code b * queries + i} of {@code op} had an attention score beyond float32. */
    public static NumericOverflowException scores(AttentionOp op, long row) {
        long b = row / op.queries();
        long i = row % op.queries();
        return new NumericOverflowException(op.name() + ": the attention scores overflowed float32 at batch element "
                + b + ", query " + i + " (scale * q.k beyond 3.4e38), although every input is finite: their magnitude"
                + " is too large for float32 (scale the inputs or the weights down)");
    }

    /**
     * The row a fused text call reported: self rows are {@code b * queries + i}; cross rows follow, offset by
     * {@code batch * queries}.
     */
    public static NumericOverflowException text(TextAttentionOp op, long row) {
        long rows = (long) op.self().batch() * op.self().queries();
        return row < rows ? scores(op.self(), row) : scores(op.cross(), row - rows);
    }
}
