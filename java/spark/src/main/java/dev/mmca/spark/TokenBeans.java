package dev.mmca.spark;

import java.io.Serializable;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;

/**
 * The token columns as Java beans of primitive arrays, so that Spark's encoders move them with bulk
 * copies ({@code UnsafeArrayData.toFloatArray} in, {@code UnsafeArrayData.fromPrimitiveArray} out)
 * instead of one boxed {@code Float} per element, which would cost more than the model. Nested
 * tokens are {@code float[tokens][dim]}, flat ones {@code float[tokens * dim]}.
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

    /** A row's input tokens and embeddings, nested; the inputs are null unless kept. */
    public static final class NestedOutputs implements Serializable {
        private static final long serialVersionUID = 1L;
        private float[][] visual;
        private float[][] text;
        private float[][] visualOut;
        private float[][] textOut;

        public float[][] getVisual() { return visual; }
        public void setVisual(float[][] visual) { this.visual = visual; }
        public float[][] getText() { return text; }
        public void setText(float[][] text) { this.text = text; }
        public float[][] getVisualOut() { return visualOut; }
        public void setVisualOut(float[][] visualOut) { this.visualOut = visualOut; }
        public float[][] getTextOut() { return textOut; }
        public void setTextOut(float[][] textOut) { this.textOut = textOut; }
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

    /** A row's input tokens and embeddings, flat; the inputs are null unless kept. */
    public static final class FlatOutputs implements Serializable {
        private static final long serialVersionUID = 1L;
        private float[] visual;
        private float[] text;
        private float[] visualOut;
        private float[] textOut;

        public float[] getVisual() { return visual; }
        public void setVisual(float[] visual) { this.visual = visual; }
        public float[] getText() { return text; }
        public void setText(float[] text) { this.text = text; }
        public float[] getVisualOut() { return visualOut; }
        public void setVisualOut(float[] visualOut) { this.visualOut = visualOut; }
        public float[] getTextOut() { return textOut; }
        public void setTextOut(float[] textOut) { this.textOut = textOut; }
    }

    static Encoder<NestedInputs> nestedInputs() { return Encoders.bean(NestedInputs.class); }
    static Encoder<NestedOutputs> nestedOutputs() { return Encoders.bean(NestedOutputs.class); }
    static Encoder<FlatInputs> flatInputs() { return Encoders.bean(FlatInputs.class); }
    static Encoder<FlatOutputs> flatOutputs() { return Encoders.bean(FlatOutputs.class); }
}
