package dev.mmca.spark;

import dev.mmca.embed.EmbedOptions;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Adds SimpleMMCA embeddings to a {@code Dataset<Row>}: reads a visual and a text token column,
 * each {@code array<array<float>>} (tokens x dim, any number of tokens per row), and appends
 * {@code visual_out} and {@code text_out} columns of the same shapes; other columns pass through
 * (the token columns too, unless {@link Builder#keepTokenColumns} says otherwise).
 *
 * <p>Each executor JVM loads the weights once (see {@link ExecutorModels}) and picks its own
 * backend ({@code auto} unless set), and each partition is embedded in batches, as the file
 * pipeline batches a shard. It runs in {@code local[*]} and on a cluster alike; on a cluster the
 * weights path must be readable by every executor, or the file shipped with
 * {@code spark-submit --files}.
 */
public final class MmcaEmbeddings implements Serializable {
    private static final long serialVersionUID = 1L;

    /** {@code array<array<float>>}: tokens of {@code dim} floats each. */
    public static final DataType TOKENS = DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false),
            false);

    private final String weights;
    private final String backend;
    private final String visualColumn;
    private final String textColumn;
    private final String visualOutColumn;
    private final String textOutColumn;
    private final String idColumn;
    private final int window;
    private final int batchTokens;
    private final boolean keepTokenColumns;

    private MmcaEmbeddings(Builder b) {
        this.weights = b.weights;
        this.backend = b.backend;
        this.visualColumn = b.visualColumn;
        this.textColumn = b.textColumn;
        this.visualOutColumn = b.visualOutColumn;
        this.textOutColumn = b.textOutColumn;
        this.idColumn = b.idColumn;
        this.window = b.window;
        this.batchTokens = b.batchTokens;
        this.keepTokenColumns = b.keepTokenColumns;
    }

    /** @param weights a safetensors weights file with its hyper-parameters in the metadata */
    public static Builder builder(String weights) {
        return new Builder(weights);
    }

    /** The input with the two embedding columns appended. Lazy, as any Spark transformation. */
    public Dataset<Row> transform(Dataset<Row> input) {
        Objects.requireNonNull(input, "input");
        StructType schema = input.schema();
        tokenColumn(schema, visualColumn, "visualColumn");
        tokenColumn(schema, textColumn, "textColumn");
        if (idColumn != null) {
            index(schema, idColumn, "idColumn");
            if (idColumn.equals(visualColumn) || idColumn.equals(textColumn)) {
                throw new IllegalArgumentException("idColumn: expected a column other than the token columns, got '"
                        + idColumn + "'");
            }
        }
        for (String out : new String[] {visualOutColumn, textOutColumn}) {
            if (Arrays.asList(schema.fieldNames()).contains(out)) {
                throw new IllegalArgumentException("output column '" + out + "': expected a name not in the input,"
                        + " got one of " + Arrays.toString(schema.fieldNames()));
            }
        }
        // Pass-through columns travel as a Row; the token columns as a bean of float[][] (see TokenBeans).
        List<Column> rest = new ArrayList<>();
        StructType restSchema = new StructType();
        for (StructField f : schema.fields()) {
            if (!f.name().equals(visualColumn) && !f.name().equals(textColumn)) {
                rest.add(col(quote(f.name())));
                restSchema = restSchema.add(f);
            }
        }
        boolean noRest = rest.isEmpty();
        if (noRest) {
            rest.add(lit(true).as(PLACEHOLDER));
            restSchema = restSchema.add(PLACEHOLDER, DataTypes.BooleanType, false);
        }
        Dataset<Tuple2<Row, TokenBeans.Inputs>> pairs = input.select(
                struct(rest.toArray(new Column[0])).as("_1"),
                struct(col(quote(visualColumn)).as("visual"), col(quote(textColumn)).as("text")).as("_2"))
                .as(Encoders.tuple(Encoders.row(restSchema), Encoders.bean(TokenBeans.Inputs.class)));
        PartitionEmbedder f = new PartitionEmbedder(weights, backend, idColumn, visualColumn, textColumn, window,
                batchTokens, keepTokenColumns);
        Dataset<Tuple2<Row, TokenBeans.Outputs>> embedded = pairs.mapPartitions(f,
                Encoders.tuple(Encoders.row(restSchema), Encoders.bean(TokenBeans.Outputs.class)));
        List<Column> out = new ArrayList<>();
        for (StructField field : schema.fields()) {
            String name = field.name();
            if (name.equals(visualColumn)) {
                if (keepTokenColumns) {
                    out.add(col("_2.visual").as(name));
                }
            } else if (name.equals(textColumn)) {
                if (keepTokenColumns) {
                    out.add(col("_2.text").as(name));
                }
            } else {
                out.add(col("_1." + quote(name)).as(name));
            }
        }
        out.add(col("_2.visualOut").as(visualOutColumn));
        out.add(col("_2.textOut").as(textOutColumn));
        return embedded.select(out.toArray(new Column[0]));
    }

    /** Stands in for the pass-through columns when the input has none besides the tokens. */
    private static final String PLACEHOLDER = "__mmca_no_columns";

    /** A column name as Spark SQL reads it literally (dots and backticks included). */
    private static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }

    private static int index(StructType schema, String name, String what) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(what + ": expected a column of the input, got '" + name
                    + "' (columns: " + Arrays.toString(schema.fieldNames()) + ")");
        }
        return schema.fieldIndex(name);
    }

    private static void tokenColumn(StructType schema, String name, String what) {
        int i = index(schema, name, what);
        StructField f = schema.fields()[i];
        DataType t = f.dataType();
        boolean ok = t instanceof ArrayType outer && outer.elementType() instanceof ArrayType inner
                && inner.elementType().equals(DataTypes.FloatType);
        if (!ok) {
            throw new IllegalArgumentException(what + " '" + name + "': expected type array<array<float>> (tokens x"
                    + " dim), got " + t.simpleString() + " (cast it, e.g. col.cast(\"array<array<float>>\"))");
        }
    }

    public static final class Builder {
        private final String weights;
        private String backend = "auto";
        private String visualColumn = "visual";
        private String textColumn = "text";
        private String visualOutColumn = "visual_out";
        private String textOutColumn = "text_out";
        private String idColumn;
        private int window = EmbedOptions.DEFAULT_WINDOW;
        private int batchTokens = EmbedOptions.DEFAULT_BATCH_TOKENS;
        private boolean keepTokenColumns = true;

        private Builder(String weights) {
            this.weights = Objects.requireNonNull(weights, "weights");
        }

        /** Backend name, chosen on each executor; {@code auto} (default) takes the best one there. */
        public Builder backend(String backend) { this.backend = Objects.requireNonNull(backend, "backend"); return this; }
        public Builder visualColumn(String c) { this.visualColumn = Objects.requireNonNull(c, "visualColumn"); return this; }
        public Builder textColumn(String c) { this.textColumn = Objects.requireNonNull(c, "textColumn"); return this; }
        public Builder visualOutColumn(String c) { this.visualOutColumn = Objects.requireNonNull(c, "visualOutColumn"); return this; }
        public Builder textOutColumn(String c) { this.textOutColumn = Objects.requireNonNull(c, "textOutColumn"); return this; }
        /** A column whose value names a row in error messages (else: partition and position). */
        public Builder idColumn(String c) { this.idColumn = c; return this; }
        /** Rows sorted together by length before batching (per partition). */
        public Builder window(int w) { this.window = w; return this; }
        /** Padded tokens per forward call. */
        public Builder batchTokens(int n) { this.batchTokens = n; return this; }
        /**
         * Whether the output keeps the two input token columns (default true); without them less
         * data is written back, which matters when the model is fast.
         */
        public Builder keepTokenColumns(boolean keep) { this.keepTokenColumns = keep; return this; }

        public MmcaEmbeddings build() {
            if (window < 1) {
                throw new IllegalArgumentException("window: expected at least 1 row, got " + window);
            }
            if (batchTokens < 1) {
                throw new IllegalArgumentException("batchTokens: expected at least 1 token, got " + batchTokens);
            }
            return new MmcaEmbeddings(this);
        }
    }
}
