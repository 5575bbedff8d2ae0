package dev.mmca.spark;

import java.io.Serializable;

/**
 * The token columns as Java beans, so Spark hands them over as {@code float[][]} (read straight
 * from its binary rows) instead of rows of boxed floats, which would cost more than the model.
 */
public final class TokenBeans {
    private TokenBeans() {
    }

    /** A row's input tokens: visual and text, {@code float[tokens][dim]} each. */
    public static final class Inputs implements Serializable {
        private static final long serialVersionUID = 1L;
        private float[][] visual;
        private float[][] text;

        public float[][] getVisual() { return visual; }
        public void setVisual(float[][] visual) { this.visual = visual; }
        public float[][] getText() { return text; }
        public void setText(float[][] text) { this.text = text; }
    }

    /** A row's tokens and their embeddings. */
    public static final class Outputs implements Serializable {
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
}
