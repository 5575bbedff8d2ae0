package dev.mmca.spark;

import java.io.Serializable;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Where each value of an output row comes from: a pass-through column of the row, a kept input
 * token column, or an embedding. Built on the driver from the schemas, applied per row on the
 * executors.
 */
final class OutputRowLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final int VISUAL_IN = -1;
    private static final int TEXT_IN = -2;
    private static final int VISUAL_OUT = -3;
    private static final int TEXT_OUT = -4;

    /** Per output column: the pass-through column's index in the rest row, or one of the constants above. */
    private final int[] sources;

    private OutputRowLayout(int[] sources) {
        this.sources = sources;
    }

    /**
     * @param output the output schema ({@link StageSchema#output})
     * @param rest the pass-through columns, in the order the rest row holds them
     */
    static OutputRowLayout of(StructType output, StructType rest, StageSettings s) {
        int[] sources = new int[output.size()];
        StructField[] fields = output.fields();
        for (int i = 0; i < fields.length; i++) {
            String name = fields[i].name();
            // Output names differ from every input name (StageSchema checks it).
            if (name.equals(s.visualOutColumn())) {
                sources[i] = VISUAL_OUT;
            } else if (name.equals(s.textOutColumn())) {
                sources[i] = TEXT_OUT;
            } else if (name.equals(s.visualColumn())) {
                sources[i] = VISUAL_IN;
            } else if (name.equals(s.textColumn())) {
                sources[i] = TEXT_IN;
            } else {
                sources[i] = rest.fieldIndex(name);
            }
        }
        return new OutputRowLayout(sources);
    }

    Row row(Row rest, Object visualIn, Object textIn, Object visualOut, Object textOut) {
        Object[] values = new Object[sources.length];
        for (int i = 0; i < sources.length; i++) {
            int src = sources[i];
            values[i] = switch (src) {
                case VISUAL_IN -> visualIn;
                case TEXT_IN -> textIn;
                case VISUAL_OUT -> visualOut;
                case TEXT_OUT -> textOut;
                default -> rest.get(src);
            };
        }
        return RowFactory.create(values);
    }
}
