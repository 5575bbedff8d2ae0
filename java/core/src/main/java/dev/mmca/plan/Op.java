package dev.mmca.plan;

/**
 * One operation of a {@link Plan}. A backend implements every kind ({@link Visitor}) over its own memory;
 * the composition of the model lives only in the plans that produce them.
 */
public sealed interface Op permits LinearOp, AttentionOp, TextAttentionOp, InterleavedAttentionOp, AddOp,
        ScatterRowsOp {
    /** What the operation computes, for error messages (e.g. {@code visual_self_attn.to_q|to_k|to_v}). */
    String name();

    void accept(Visitor visitor);

    /** The operations a backend implements. */
    interface Visitor {
        void linear(LinearOp op);

        void attention(AttentionOp op);

        void textAttention(TextAttentionOp op);

        void interleavedAttention(InterleavedAttentionOp op);

        void add(AddOp op);

        void scatterRows(ScatterRowsOp op);
    }
}
