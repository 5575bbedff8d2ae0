package dev.mmca.plan;

/** {@code out = a + b} element by element over three buffers of one shape (the SEED composition's t + visual). */
public record AddOp(String name, Buffer a, Buffer b, Buffer out) implements Op {
    public AddOp {
        if (a.elements() != b.elements() || a.elements() != out.elements()) {
            throw new IllegalArgumentException(name + ": expected equal sizes, got " + a + ", " + b + ", " + out);
        }
    }

    public long elements() { return out.elements(); }

    @Override
    public void accept(Visitor visitor) {
        visitor.add(this);
    }
}
