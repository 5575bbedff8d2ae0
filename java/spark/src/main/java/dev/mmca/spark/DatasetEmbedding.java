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
 * Builds the plan of one transform. Going in, the pass-through columns travel as a {@link Row} and
 * the token columns as the layout's bean (see {@link TokenBeans}); coming out, each row is one
 * {@link Row} of the output schema whose token values are primitive arrays, which Spark's row
 * serializer writes in bulk, straight into the output row (no struct to unpack afterwards).
 */
final class DatasetEmbedding {
    /** Stands in for the pass-through columns when the input has none besides the tokens. */
    private static final String PLACEHOLDER = "__mmca_no_columns";

    private DatasetEmbedding() {
    }

    /** The embedded dataset, of schema {@code output} ({@link StageSchema#output} of the input). */
    static Dataset<Row> apply(Dataset<Row> input, StageSettings s, StructType output) {
        if (s.layout() == TokenLayout.FLAT) {
            Column tokens = struct(col(quote(s.visualColumn())).as("visual"), col(quote(s.textColumn())).as("text"),
                    count(s.visualTokensColumn()).as("visualTokens"), count(s.textTokensColumn()).as("textTokens"));
            return apply(input, s, output, tokens, TokenBeans.flatInputs(),
                    new FlatTokenCodec(s.visualColumn(), s.textColumn(), s.visualTokensColumn(), s.textTokensColumn()));
        }
        Column tokens = struct(col(quote(s.visualColumn())).as("visual"), col(quote(s.textColumn())).as("text"));
        return apply(input, s, output, tokens, TokenBeans.nestedInputs(),
                new NestedTokenCodec(s.visualColumn(), s.textColumn()));
    }

    private static <I> Dataset<Row> apply(Dataset<Row> input, StageSettings s, StructType output, Column tokens,
            Encoder<I> in, TokenCodec<I> codec) {
        List<Column> rest = new ArrayList<>();
        StructType restSchema = new StructType();
        for (StructField f : input.schema().fields()) {
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
        PartitionEmbedder<I> embedder = new PartitionEmbedder<>(s, codec, OutputRowLayout.of(output, restSchema, s));
        return pairs.mapPartitions(embedder, Encoders.row(output));
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
