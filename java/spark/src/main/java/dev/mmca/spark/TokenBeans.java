package dev.mmca.spark;

import java.io.Serializable;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;

/**
 * The input token columns as Java beans of primitive arrays, so that Spark's encoder hands them
 * over with bulk copies ({@code UnsafeArrayData.toFloatArray}) instead of one boxed {@code Float}
 * per element, which would cost more than the model (a {@code Row} would box). Nested tokens are
 * {@code float[tokens][dim]}, flat ones {@code float[tokens * dim]}. (On the way out, a
 * {@code Row} holding {@code float[]} values is serialized in bulk too, see {@link DatasetEmbedding}.)
 */
public final class TokenBeans {
    private TokenBeans() {
    }

    /** A row's input tokens, nested. */
    public static final class NestedInputs implements Serializable {
        private static final long serialVersionUID = 1L;
        private float[][] visual;
        private float[][] text;

        public float[][] getVisual() { return visual; }
        public void setVisual(float[][] visual) { this.visual = visual; }
        public float[][] getText() { return text; }
        public void setText(float[][] text) { this.text = text; }
    }

    /** A row's input tokens, flat, with the token counts of the count columns (null where none is set). */
    public static final class FlatInputs implements Serializable {
        private static final long serialVersionUID = 1L;
        private float[] visual;
        private float[] text;
        private Integer visualTokens;
        private Integer textTokens;

        public float[] getVisual() { return visual; }
        public void setVisual(float[] visual) { this.visual = visual; }
        public float[] getText() { return text; }
        public void setText(float[] text) { this.text = text; }
        public Integer getVisualTokens() { return visualTokens; }
        public void setVisualTokens(Integer visualTokens) { this.visualTokens = visualTokens; }
        public Integer getTextTokens() { return textTokens; }
        public void setTextTokens(Integer textTokens) { this.textTokens = textTokens; }
    }

    static Encoder<NestedInputs> nestedInputs() { return Encoders.bean(NestedInputs.class); }
    static Encoder<FlatInputs> flatInputs() { return Encoders.bean(FlatInputs.class); }
}
