package dev.mmca.embed;

import dev.mmca.SimpleMmca;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Embeds records held in memory, batched as the file pipeline batches them (see
 * {@link BatchPlanner}); for callers that bring their own records, such as a Spark partition.
 */
public final class BatchEmbedder {
    private final SimpleMmca model;
    private final int window;
    private final int batchTokens;

    public BatchEmbedder(SimpleMmca model, int window, int batchTokens) {
        this.model = Objects.requireNonNull(model, "model");
        if (window < 1) {
            throw new IllegalArgumentException("window: expected at least 1 record, got " + window);
        }
        if (batchTokens < 1) {
            throw new IllegalArgumentException("batchTokens: expected at least 1 token, got " + batchTokens);
        }
        this.window = window;
        this.batchTokens = batchTokens;
    }

    /** One record's outputs: visual {@code [visualLength, dim]} and text {@code [textLength, dim]}, row-major. */
    public static final class Embedding {
        private final float[] visual;
        private final float[] text;

        Embedding(float[] visual, float[] text) {
            this.visual = visual;
            this.text = text;
        }

        public float[] visual() { return visual; }
        public float[] text() { return text; }
    }

    /** Embeddings of {@code records}, in the same order. */
    public List<Embedding> embed(List<EmbedRecord> records) {
        Objects.requireNonNull(records, "records");
        int dim = model.config().dim();
        int n = records.size();
        int[] vl = new int[n];
        int[] tl = new int[n];
        for (int i = 0; i < n; i++) {
            vl[i] = records.get(i).visualLength();
            tl[i] = records.get(i).textLength();
        }
        Embedding[] out = new Embedding[n];
        for (int[] positions : BatchPlanner.plan(vl, tl, window, batchTokens)) {
            PaddedBatch.Outputs o = PaddedBatch.build(records, positions, dim).run(model);
            for (int i = 0; i < positions.length; i++) {
                float[] v = new float[vl[positions[i]] * dim];
                float[] t = new float[tl[positions[i]] * dim];
                o.copyVisual(i, v, 0);
                o.copyText(i, t, 0);
                out[positions[i]] = new Embedding(v, t);
            }
        }
        List<Embedding> list = new ArrayList<>(n);
        for (Embedding e : out) {
            list.add(e);
        }
        return list;
    }
}
