package dev.mmca.spark;

import dev.mmca.SimpleMmca;
import dev.mmca.embed.BatchEmbedder;
import dev.mmca.embed.EmbedRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Embeds one partition: takes rows in windows of {@code window} rows, batches each window with
 * {@link BatchEmbedder} (length-sorted, padded batches within the token budget, as the file
 * pipeline batches a shard) and emits each row with its embeddings, lazily: a partition is never
 * held whole. A row is a pair of the pass-through columns and the layout's token bean.
 *
 * @param <I> the layout's input bean
 * @param <O> the layout's output bean
 */
final class PartitionEmbedder<I, O> implements MapPartitionsFunction<Tuple2<Row, I>, Tuple2<Row, O>> {
    private static final long serialVersionUID = 1L;

    private final StageSettings settings;
    private final TokenCodec<I, O> codec;

    PartitionEmbedder(StageSettings settings, TokenCodec<I, O> codec) {
        this.settings = settings;
        this.codec = codec;
    }

    @Override
    public Iterator<Tuple2<Row, O>> call(Iterator<Tuple2<Row, I>> rows) {
        TaskContext task = TaskContext.get();
        int partition = task == null ? 0 : task.partitionId();
        return new Iterator<>() {
            private final ArrayDeque<Tuple2<Row, O>> ready = new ArrayDeque<>();
            private BatchEmbedder embedder;
            private int dim;
            private long position;

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && rows.hasNext()) {
                    fill();
                }
                return !ready.isEmpty();
            }

            @Override
            public Tuple2<Row, O> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void fill() {
                if (embedder == null) {
                    // Here rather than in call(): a partition without rows loads nothing.
                    SimpleMmca model = ExecutorModels.get(settings.weights(),
                            TaskBackend.forCurrentTask(settings.backend()));
                    embedder = new BatchEmbedder(model, settings.window(), settings.batchTokens());
                    dim = model.config().dim();
                }
                int window = settings.window();
                List<Row> rests = new ArrayList<>(window);
                List<I> kept = settings.keepInputs() ? new ArrayList<>(window) : null;
                List<EmbedRecord> records = new ArrayList<>(window);
                while (records.size() < window && rows.hasNext()) {
                    Tuple2<Row, I> r = rows.next();
                    long at = position++;
                    records.add(codec.read(r._2(), dim, () -> describe(r._1(), partition, at)));
                    rests.add(r._1());
                    if (kept != null) {
                        kept.add(r._2());
                    }
                }
                List<BatchEmbedder.Embedding> out = embedder.embed(records);
                for (int i = 0; i < out.size(); i++) {
                    ready.add(new Tuple2<>(rests.get(i), codec.write(kept == null ? null : kept.get(i), out.get(i),
                            dim)));
                }
            }
        };
    }

    private String describe(Row rest, int partition, long position) {
        String where = "row " + position + " of partition " + partition;
        String id = settings.idColumn();
        return id != null ? where + " (" + id + " = " + rest.getAs(id) + ")" : where;
    }
}
