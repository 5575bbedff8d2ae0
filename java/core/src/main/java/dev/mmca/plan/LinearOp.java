package dev.mmca.plan;

/**
 * A projection {@code y[r, :] = x[r, :] * W^T} over all rows of {@code x}, where {@code W} is packed weight
 * {@link #weight()} of the model, {@code [out, in]} in {@code nn.Linear} layout. Both tensors are whole
 * buffers: {@code x [rows, in]}, {@code y [rows, out]}.
 */
public record LinearOp(String name, Buffer x, int weight, Buffer y) implements Op {
    public LinearOp {
        if (x.rows() != y.rows()) {
            throw new IllegalArgumentException(name + ": x has " + x.rows() + " rows, y " + y.rows());
        }
    }

    public long rows() { return x.rows(); }
    public int in() { return x.width(); }
    public int out() { return y.width(); }

    @Override
    public void accept(Visitor visitor) {
        visitor.linear(this);
    }
}
