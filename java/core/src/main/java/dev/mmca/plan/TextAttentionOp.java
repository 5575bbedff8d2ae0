package dev.mmca.plan;

/**
 * The fused MMCA text operation: two attention problems over the same text queries, each with its own
 * softmax ({@code self}: textual self-attention; {@code cross}: text to visual), computed in one pass over
 * the query tiles; their outputs are normally the two halves of one {@code [rows, 2 * H * D]} buffer.
 */
public record TextAttentionOp(String name, AttentionOp self, AttentionOp cross) implements Op {
    public TextAttentionOp {
        if (self.batch() != cross.batch() || self.heads() != cross.heads() || self.kvHeads() != cross.kvHeads()
                || self.queries() != cross.queries() || self.dimHead() != cross.dimHead()) {
            throw new IllegalArgumentException(name + ": self and cross must share batch, heads, kvHeads, queries"
                    + " and dimHead, got " + self + " and " + cross);
        }
    }

    @Override
    public void accept(Visitor visitor) {
        visitor.textAttention(this);
    }
}
