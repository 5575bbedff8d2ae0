package dev.mmca.spark;

import dev.mmca.SimpleMmca;
import dev.mmca.embed.BatchEmbedder;
import dev.mmca.embed.EmbedRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * Embeds one partition: takes rows in windows of {@code window} rows (fewer when they hold
 * {@link #WINDOW_BATCHES} batches' worth of tokens), batches each window with
 * {@link BatchEmbedder} (length-sorted, padded batches within the token budget, as the file
 * pipeline batches a shard) and emits each row with its embeddings, lazily: a partition is never
 * held whole. Forward calls take turns across the JVM's tasks ({@link ExecutorModels#forwards}).
 * A row comes in as a pair of the pass-through columns and the layout's token bean, and goes out
 * as one row of the output schema.
 *
 * @param <I> the layout's input bean
 */
final class PartitionEmbedder<I> implements MapPartitionsFunction<Tuple2<Row, I>, Row> {
    private static final long serialVersionUID = 1L;

    /**
     * A window also ends once it holds this many batches' worth of tokens: enough rows to sort into
     * well-filled batches, few enough that large rows (hundreds of tokens each) do not make a task
     * hold a whole partition before its first forward call, nor its memory.
     */
    static final int WINDOW_BATCHES = 2;

    private final StageSettings settings;
    private final TokenCodec<I> codec;
    private final OutputRowLayout layout;

    PartitionEmbedder(StageSettings settings, TokenCodec<I> codec, OutputRowLayout layout) {
        this.settings = settings;
        this.codec = codec;
        this.layout = layout;
    }

    @Override
    public Iterator<Row> call(Iterator<Tuple2<Row, I>> rows) {
        TaskContext task = TaskContext.get();
        int partition = task == null ? 0 : task.partitionId();
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();
            private BatchEmbedder embedder;
            private Semaphore forwards;
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
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void fill() {
                if (embedder == null) {
                    // Here rather than in call(): a partition without rows loads nothing.
                    String request = TaskBackend.forCurrentTask(settings.backend());
                    SimpleMmca model = ExecutorModels.get(settings.weights(), request);
                    embedder = new BatchEmbedder(model, settings.window(), settings.batchTokens());
                    forwards = ExecutorModels.forwards(settings.weights(), request, settings.computeThreads());
                    dim = model.config().dim();
                }
                int window = settings.window();
                long windowTokens = WINDOW_BATCHES * (long) settings.batchTokens();
                long first = position;
                List<Tuple2<Row, I>> in = new ArrayList<>();
                List<EmbedRecord> records = new ArrayList<>();
                long windowed = 0;
                while (records.size() < window && windowed < windowTokens && rows.hasNext()) {
                    Tuple2<Row, I> r = rows.next();
                    long at = position++;
                    EmbedRecord record = codec.read(r._2(), dim, () -> describe(r._1(), partition, at));
                    records.add(record);
                    in.add(r);
                    windowed += Math.max(1, record.visualLength()) + Math.max(1, record.textLength());
                }
                List<BatchEmbedder.Embedding> out;
                forwards.acquireUninterruptibly();
                try {
                    out = embedder.embed(records);
                } catch (IllegalArgumentException e) {
                    throw nameTheRow(e, in, records, partition, first);
                } finally {
                    forwards.release();
                }
                boolean keep = settings.keepInputs();
                for (int i = 0; i < out.size(); i++) {
                    I tokens = in.get(i)._2();
                    ready.add(layout.row(in.get(i)._1(), keep ? codec.visual(tokens) : null,
                            keep ? codec.text(tokens) : null, codec.tokens(out.get(i).visual(), dim),
                            codec.tokens(out.get(i).text(), dim)));
                }
            }
        };
    }

    /**
     * The model checks a batch's values (finite floats) and names the batch position; this finds
     * the row behind it, so the error names the row and column as every other row error does.
     */
    private RuntimeException nameTheRow(IllegalArgumentException e, List<Tuple2<Row, I>> in,
            List<EmbedRecord> records, int partition, long first) {
        for (int i = 0; i < records.size(); i++) {
            Row rest = in.get(i)._1();
            long at = first + i;
            try {
                EmbedRecord r = records.get(i);
                Supplier<String> where = () -> describe(rest, partition, at);
                RowTokens.requireFinite(r.visual(), settings.visualColumn(), r.dim(), where);
                RowTokens.requireFinite(r.text(), settings.textColumn(), r.dim(), where);
            } catch (IllegalArgumentException named) {
                named.addSuppressed(e);
                return named;
            }
        }
        return e;
    }

    private String describe(Row rest, int partition, long position) {
        String where = "row " + position + " of partition " + partition;
        String id = settings.idColumn();
        return id != null ? where + " (" + id + " = " + rest.getAs(id) + ")" : where;
    }
}
