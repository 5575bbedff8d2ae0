package dev.mmca.spark;

import dev.mmca.embed.EmbedRecord;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * Moves one layout's tokens between a row's input bean, the flat records the batcher takes, and
 * the values of the output row.
 *
 * @param <I> the layout's input bean
 */
interface TokenCodec<I> extends Serializable {
    /**
     * The row's tokens as a record, checked against {@code dim} (finiteness is checked on the
     * batch, see {@link PartitionEmbedder}).
     *
     * @param where names the row in error messages (called only on error)
     * @throws IllegalArgumentException naming the row and column when the tokens do not fit
     */
    EmbedRecord read(I inputs, int dim, Supplier<String> where);

    /** The visual input as the output row keeps it. */
    Object visual(I inputs);

    /** The text input as the output row keeps it. */
    Object text(I inputs);

    /** Row-major embeddings ({@code tokens * dim} floats) as an output column's value in this layout. */
    Object tokens(float[] flat, int dim);
}
