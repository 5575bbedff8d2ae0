package dev.mmca.spark;

import dev.mmca.embed.EmbedRecord;
import java.util.function.Supplier;

/** Tokens as {@code array<array<float>>}: flattened into a record on the way in, split per token on the way out. */
final class NestedTokenCodec implements TokenCodec<TokenBeans.NestedInputs> {
    private static final long serialVersionUID = 1L;

    private final String visualColumn;
    private final String textColumn;

    NestedTokenCodec(String visualColumn, String textColumn) {
        this.visualColumn = visualColumn;
        this.textColumn = textColumn;
    }

    @Override
    public EmbedRecord read(TokenBeans.NestedInputs in, int dim, Supplier<String> where) {
        return new EmbedRecord(RowTokens.flatten(in.getVisual(), visualColumn, dim, where),
                RowTokens.flatten(in.getText(), textColumn, dim, where), dim);
    }

    @Override
    public Object visual(TokenBeans.NestedInputs in) {
        return in.getVisual();
    }

    @Override
    public Object text(TokenBeans.NestedInputs in) {
        return in.getText();
    }

    @Override
    public Object tokens(float[] flat, int dim) {
        return RowTokens.toTokens(flat, dim);
    }
}
