package dev.mmca.spark;

import dev.mmca.embed.BatchEmbedder;
import dev.mmca.embed.EmbedRecord;
import java.util.function.Supplier;

/** Tokens as {@code array<array<float>>}: flattened into a record on the way in, split per token on the way out. */
final class NestedTokenCodec implements TokenCodec<TokenBeans.NestedInputs, TokenBeans.NestedOutputs> {
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
    public TokenBeans.NestedOutputs write(TokenBeans.NestedInputs in, BatchEmbedder.Embedding e, int dim) {
        TokenBeans.NestedOutputs o = new TokenBeans.NestedOutputs();
        if (in != null) {
            o.setVisual(in.getVisual());
            o.setText(in.getText());
        }
        o.setVisualOut(RowTokens.toTokens(e.visual(), dim));
        o.setTextOut(RowTokens.toTokens(e.text(), dim));
        return o;
    }
}
