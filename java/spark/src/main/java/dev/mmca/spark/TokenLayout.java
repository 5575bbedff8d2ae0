package dev.mmca.spark;

import java.util.Locale;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * How a row's tokens sit in a column. {@link #NESTED}: {@code array<array<float>>}, one inner array
 * of {@code dim} floats per token. {@link #FLAT}: {@code array<float>} of {@code tokens * dim}
 * floats, row-major (the tensor convention of Spark's {@code predict_batch_udf}); the token count
 * is the length over {@code dim}, or read from a count column.
 */
public enum TokenLayout {
    NESTED("nested", "array<array<float>>"),
    FLAT("flat", "array<float>");

    private final String paramValue;
    private final String typeName;

    TokenLayout(String paramValue, String typeName) {
        this.paramValue = paramValue;
        this.typeName = typeName;
    }

    /** The value of the {@code tokenLayout} param: {@code nested} or {@code flat}. */
    public String paramValue() {
        return paramValue;
    }

    /** The column type, as Spark SQL writes it. */
    public String typeName() {
        return typeName;
    }

    /** Whether a column of type {@code t} holds tokens in this layout. */
    boolean accepts(DataType t) {
        if (!(t instanceof ArrayType outer)) {
            return false;
        }
        return switch (this) {
            case FLAT -> outer.elementType().equals(DataTypes.FloatType);
            case NESTED -> outer.elementType() instanceof ArrayType inner
                    && inner.elementType().equals(DataTypes.FloatType);
        };
    }

    /** The layout named {@code value} ({@code nested} or {@code flat}, any case). */
    public static TokenLayout of(String value) {
        if (value != null) {
            for (TokenLayout l : values()) {
                if (l.paramValue.equals(value.trim().toLowerCase(Locale.ROOT))) {
                    return l;
                }
            }
        }
        throw new IllegalArgumentException("tokenLayout: expected nested (array<array<float>>) or flat (array<float>),"
                + " got " + (value == null ? "null" : "'" + value + "'"));
    }
}
