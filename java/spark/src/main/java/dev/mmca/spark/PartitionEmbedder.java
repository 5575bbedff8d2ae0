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
 * Embeds one partition: takes rows in windows, batches them with {@link BatchEmbedder} and emits
 * each row with its embeddings, lazily (a partition is never held whole). A row is a pair of the
 * pass-through columns and the token columns.
 */
final class PartitionEmbedder implements
        MapPartitionsFunction<Tuple2<Row, TokenBeans.Inputs>, Tuple2<Row, TokenBeans.Outputs>> {
    private static final long serialVersionUID = 1L;

    private final String weights;
    private final String backend;
    private final String idColumn;
    private final String visualName;
    private final String textName;
    private final int window;
    private final int batchTokens;
    private final boolean keepTokens;

    PartitionEmbedder(String weights, String backend, String idColumn, String visualName, String textName, int window,
            int batchTokens, boolean keepTokens) {
        this.weights = weights;
        this.backend = backend;
        this.idColumn = idColumn;
        this.visualName = visualName;
        this.textName = textName;
        this.window = window;
        this.batchTokens = batchTokens;
        this.keepTokens = keepTokens;
    }

    @Override
    public Iterator<Tuple2<Row, TokenBeans.Outputs>> call(Iterator<Tuple2<Row, TokenBeans.Inputs>> rows) {
        SimpleMmca model = ExecutorModels.get(weights, backend);
        BatchEmbedder embedder = new BatchEmbedder(model, window, batchTokens);
        int dim = model.config().dim();
        TaskContext task = TaskContext.get();
        int partition = task == null ? 0 : task.partitionId();
        return new Iterator<>() {
            private final ArrayDeque<Tuple2<Row, TokenBeans.Outputs>> ready = new ArrayDeque<>();
            private long position;

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && rows.hasNext()) {
                    fill();
                }
                return !ready.isEmpty();
            }

            @Override
            public Tuple2<Row, TokenBeans.Outputs> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }

            private void fill() {
                List<Tuple2<Row, TokenBeans.Inputs>> in = new ArrayList<>(window);
                List<EmbedRecord> records = new ArrayList<>(window);
                while (in.size() < window && rows.hasNext()) {
                    Tuple2<Row, TokenBeans.Inputs> r = rows.next();
                    String where = describe(r._1(), partition, position++);
                    records.add(new EmbedRecord(RowTokens.flatten(r._2().getVisual(), visualName, dim, where),
                            RowTokens.flatten(r._2().getText(), textName, dim, where), dim));
                    in.add(r);
                }
                List<BatchEmbedder.Embedding> out = embedder.embed(records);
                for (int i = 0; i < in.size(); i++) {
                    TokenBeans.Outputs o = new TokenBeans.Outputs();
                    if (keepTokens) {
                        o.setVisual(in.get(i)._2().getVisual());
                        o.setText(in.get(i)._2().getText());
                    }
                    o.setVisualOut(RowTokens.toTokens(out.get(i).visual(), dim));
                    o.setTextOut(RowTokens.toTokens(out.get(i).text(), dim));
                    ready.add(new Tuple2<>(in.get(i)._1(), o));
                }
            }
        };
    }

    private String describe(Row rest, int partition, long position) {
        String where = "row " + position + " of partition " + partition;
        return idColumn != null ? where + " (" + idColumn + " = " + rest.getAs(idColumn) + ")" : where;
    }
}
