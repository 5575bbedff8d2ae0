package dev.mmca.spark;

import dev.mmca.embed.BatchEmbedder;
import dev.mmca.embed.EmbedRecord;
import java.io.Serializable;
import java.util.function.Supplier;

/**
 * Moves one layout's tokens between a row's bean and the flat records the batcher takes.
 *
 * @param <I> the layout's input bean
 * @param <O> the layout's output bean
 */
interface TokenCodec<I, O> extends Serializable {
    /**
     * The row's tokens as a record, checked against {@code dim}.
     *
     * @param where names the row in error messages (called only on error)
     * @throws IllegalArgumentException naming the row and column when the tokens do not fit
     */
    EmbedRecord read(I inputs, int dim, Supplier<String> where);

    /** The row's output bean: the embeddings, and the inputs when {@code inputs} is not null (kept). */
    O write(I inputs, BatchEmbedder.Embedding embedding, int dim);
}
