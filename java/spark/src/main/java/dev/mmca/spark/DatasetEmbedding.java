package dev.mmca.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Builds the plan of one transform: the pass-through columns travel as a {@link Row}, the token
 * columns as the layout's bean (see {@link TokenBeans}), through {@link PartitionEmbedder}, and
 * come back in the input's column order with the two embedding columns appended.
 */
final class DatasetEmbedding {
    /** Stands in for the pass-through columns when the input has none besides the tokens. */
    private static final String PLACEHOLDER = "__mmca_no_columns";

    private DatasetEmbedding() {
    }

    /** The embedded dataset; {@code input} has been checked against {@code s} ({@link StageSchema}). */
    static Dataset<Row> apply(Dataset<Row> input, StageSettings s) {
        if (s.layout() == TokenLayout.FLAT) {
            Column counts = struct(col(quote(s.visualColumn())).as("visual"), col(quote(s.textColumn())).as("text"),
                    count(s.visualTokensColumn()).as("visualTokens"), count(s.textTokensColumn()).as("textTokens"));
            return apply(input, s, counts, TokenBeans.flatInputs(), TokenBeans.flatOutputs(),
                    new FlatTokenCodec(s.visualColumn(), s.textColumn(), s.visualTokensColumn(), s.textTokensColumn()));
        }
        Column tokens = struct(col(quote(s.visualColumn())).as("visual"), col(quote(s.textColumn())).as("text"));
        return apply(input, s, tokens, TokenBeans.nestedInputs(), TokenBeans.nestedOutputs(),
                new NestedTokenCodec(s.visualColumn(), s.textColumn()));
    }

    private static <I, O> Dataset<Row> apply(Dataset<Row> input, StageSettings s, Column tokens, Encoder<I> in,
            Encoder<O> out, TokenCodec<I, O> codec) {
        StructType schema = input.schema();
        List<Column> rest = new ArrayList<>();
        StructType restSchema = new StructType();
        for (StructField f : schema.fields()) {
            if (!f.name().equals(s.visualColumn()) && !f.name().equals(s.textColumn())) {
                rest.add(col(quote(f.name())));
                restSchema = restSchema.add(f);
            }
        }
        if (rest.isEmpty()) {
            rest.add(lit(true).as(PLACEHOLDER));
            restSchema = restSchema.add(PLACEHOLDER, DataTypes.BooleanType, false);
        }
        Dataset<Tuple2<Row, I>> pairs = input.select(struct(rest.toArray(new Column[0])).as("_1"), tokens.as("_2"))
                .as(Encoders.tuple(Encoders.row(restSchema), in));
        Dataset<Tuple2<Row, O>> embedded = pairs.mapPartitions(new PartitionEmbedder<>(s, codec),
                Encoders.tuple(Encoders.row(restSchema), out));
        List<Column> columns = new ArrayList<>();
        for (StructField field : schema.fields()) {
            String name = field.name();
            if (name.equals(s.visualColumn())) {
                if (s.keepInputs()) {
                    columns.add(col("_2.visual").as(name, field.metadata()));
                }
            } else if (name.equals(s.textColumn())) {
                if (s.keepInputs()) {
                    columns.add(col("_2.text").as(name, field.metadata()));
                }
            } else {
                columns.add(col("_1." + quote(name)).as(name, field.metadata()));
            }
        }
        columns.add(col("_2.visualOut").as(s.visualOutColumn()));
        columns.add(col("_2.textOut").as(s.textOutColumn()));
        return embedded.select(columns.toArray(new Column[0]));
    }

    /** A count column as int, or a null int where none is set (the count is then inferred). */
    private static Column count(String column) {
        return column == null ? lit(null).cast(DataTypes.IntegerType) : col(quote(column)).cast(DataTypes.IntegerType);
    }

    /** A column name as Spark SQL reads it literally (dots and backticks included). */
    static String quote(String name) {
        return "`" + name.replace("`", "``") + "`";
    }
}
