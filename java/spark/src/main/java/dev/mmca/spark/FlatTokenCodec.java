package dev.mmca.spark;

import dev.mmca.embed.EmbedRecord;
import java.util.function.Supplier;

/**
 * Tokens as {@code array<float>} (tokens x dim, row-major): the arrays Spark hands over are the
 * records' arrays and the embeddings are the output values, with no copy in between.
 */
final class FlatTokenCodec implements TokenCodec<TokenBeans.FlatInputs> {
    private static final long serialVersionUID = 1L;

    private final String visualColumn;
    private final String textColumn;
    private final String visualTokensColumn;
    private final String textTokensColumn;

    /** The count columns may be null: the count is then the length over dim. */
    FlatTokenCodec(String visualColumn, String textColumn, String visualTokensColumn, String textTokensColumn) {
        this.visualColumn = visualColumn;
        this.textColumn = textColumn;
        this.visualTokensColumn = visualTokensColumn;
        this.textTokensColumn = textTokensColumn;
    }

    @Override
    public EmbedRecord read(TokenBeans.FlatInputs in, int dim, Supplier<String> where) {
        return new EmbedRecord(
                RowTokens.checkFlat(in.getVisual(), visualColumn, dim, visualTokensColumn, in.getVisualTokens(), where),
                RowTokens.checkFlat(in.getText(), textColumn, dim, textTokensColumn, in.getTextTokens(), where), dim);
    }

    @Override
    public Object visual(TokenBeans.FlatInputs in) {
        return in.getVisual();
    }

    @Override
    public Object text(TokenBeans.FlatInputs in) {
        return in.getText();
    }

    @Override
    public Object tokens(float[] flat, int dim) {
        return flat;
    }
}
