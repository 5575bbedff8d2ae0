package dev.mmca.spark;

import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The schema side of the stage: checks an input schema against the settings (every error names
 * the param, the column, what was expected and what came) and derives the output schema, which
 * is the schema {@code transform} produces (its rows are serialized with it).
 */
final class StageSchema {
    private static final List<DataType> COUNT_TYPES = List.of(DataTypes.ByteType, DataTypes.ShortType,
            DataTypes.IntegerType, DataTypes.LongType);

    private StageSchema() {
    }

    /**
     * The output schema for {@code input}: its columns in order (the token columns unless dropped),
     * then the two embedding columns, never null; throws {@link IllegalArgumentException} when the
     * input does not fit.
     */
    static StructType output(StructType input, StageSettings s) {
        check(input, s);
        StructType out = new StructType();
        for (StructField f : input.fields()) {
            boolean token = f.name().equals(s.visualColumn()) || f.name().equals(s.textColumn());
            if (!token || s.keepInputs()) {
                out = out.add(f);
            }
        }
        DataType embeddings = s.layout() == TokenLayout.FLAT ? MmcaEmbeddings.FLAT_TOKENS : MmcaEmbeddings.TOKENS;
        return out.add(s.visualOutColumn(), embeddings, false).add(s.textOutColumn(), embeddings, false);
    }

    private static void check(StructType input, StageSettings s) {
        tokenColumn(input, s.visualColumn(), "visualCol", s.layout());
        tokenColumn(input, s.textColumn(), "textCol", s.layout());
        if (s.visualColumn().equals(s.textColumn())) {
            throw new IllegalArgumentException("textCol: expected a column other than visualCol, got '"
                    + s.textColumn() + "' for both");
        }
        countColumn(input, s.visualTokensColumn(), "visualTokensCol", s);
        countColumn(input, s.textTokensColumn(), "textTokensCol", s);
        if (s.idColumn() != null) {
            field(input, s.idColumn(), "idCol");
            if (s.idColumn().equals(s.visualColumn()) || s.idColumn().equals(s.textColumn())) {
                throw new IllegalArgumentException("idCol: expected a column other than the token columns, got '"
                        + s.idColumn() + "'");
            }
        }
        if (s.visualOutColumn().equals(s.textOutColumn())) {
            throw new IllegalArgumentException("textOutputCol: expected a name other than visualOutputCol, got '"
                    + s.textOutColumn() + "' for both");
        }
        List<String> names = Arrays.asList(input.fieldNames());
        outputColumn(names, s.visualOutColumn(), "visualOutputCol");
        outputColumn(names, s.textOutColumn(), "textOutputCol");
    }

    private static StructField field(StructType schema, String name, String param) {
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(param + ": expected a column of the input, got '" + name
                    + "' (columns: " + Arrays.toString(schema.fieldNames()) + ")");
        }
        return schema.apply(name);
    }

    private static void tokenColumn(StructType schema, String name, String param, TokenLayout layout) {
        DataType t = field(schema, name, param).dataType();
        if (!layout.accepts(t)) {
            throw new IllegalArgumentException(param + " '" + name + "': expected type " + layout.typeName()
                    + " (tokenLayout " + layout.paramValue() + ": " + (layout == TokenLayout.FLAT
                            ? "tokens x dim floats" : "tokens of dim floats each") + "), got " + t.simpleString()
                    + hint(t, layout));
        }
    }

    /** What to do about a near miss: the other layout, or floats of another type. */
    private static String hint(DataType t, TokenLayout layout) {
        for (TokenLayout other : TokenLayout.values()) {
            if (other != layout && other.accepts(t)) {
                return " (that is tokenLayout " + other.paramValue() + ": set it with setTokenLayout(\""
                        + other.paramValue() + "\"))";
            }
        }
        return " (cast it, e.g. col.cast(\"" + layout.typeName() + "\"))";
    }

    private static void countColumn(StructType schema, String name, String param, StageSettings s) {
        if (name == null) {
            return;
        }
        if (s.layout() != TokenLayout.FLAT) {
            throw new IllegalArgumentException(param + ": expected unset with tokenLayout " + s.layout().paramValue()
                    + " (a nested row's token count is its length), got '" + name + "'");
        }
        DataType t = field(schema, name, param).dataType();
        if (!COUNT_TYPES.contains(t)) {
            throw new IllegalArgumentException(param + " '" + name + "': expected an integer type (tinyint, smallint,"
                    + " int or bigint) holding token counts, got " + t.simpleString());
        }
    }

    private static void outputColumn(List<String> inputNames, String name, String param) {
        if (inputNames.contains(name)) {
            throw new IllegalArgumentException(param + " '" + name + "': expected a name not in the input, got one"
                    + " of " + inputNames);
        }
    }
}
