package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaInputs;
import dev.mmca.SimpleMmca;
import java.util.List;

/**
 * A batch of records padded to the longest visual and text record in it, with masks that carry
 * the real lengths, so each record's output equals the output of running it alone.
 */
final class PaddedBatch {
    /** Positions of the batch's records in the list they were planned from. */
    final int[] positions;
    final int[] visualLengths;
    final int[] textLengths;
    final int visualTokens;
    final int textTokens;
    final int dim;
    final MmcaInputs inputs;

    private PaddedBatch(int[] positions, int[] visualLengths, int[] textLengths, int visualTokens, int textTokens,
            int dim, MmcaInputs inputs) {
        this.positions = positions;
        this.visualLengths = visualLengths;
        this.textLengths = textLengths;
        this.visualTokens = visualTokens;
        this.textTokens = textTokens;
        this.dim = dim;
        this.inputs = inputs;
    }

    static PaddedBatch build(List<EmbedRecord> records, int[] positions, int dim) {
        int b = positions.length;
        int[] vl = new int[b];
        int[] tl = new int[b];
        int nv = 1;
        int nt = 1;
        for (int i = 0; i < b; i++) {
            EmbedRecord r = records.get(positions[i]);
            vl[i] = r.visualLength();
            tl[i] = r.textLength();
            nv = Math.max(nv, vl[i]);
            nt = Math.max(nt, tl[i]);
        }
        float[] v = new float[b * nv * dim];
        float[] t = new float[b * nt * dim];
        for (int i = 0; i < b; i++) {
            EmbedRecord r = records.get(positions[i]);
            r.copyVisual(v, i * nv * dim);
            r.copyText(t, i * nt * dim);
        }
        MmcaInputs inputs = new MmcaInputs(FloatTensor.of(v, b, nv, dim), FloatTensor.of(t, b, nt, dim),
                Mask.fromLengths(vl, nv), Mask.fromLengths(tl, nt));
        return new PaddedBatch(positions.clone(), vl, tl, nv, nt, dim, inputs);
    }

    int size() {
        return positions.length;
    }

    long realTokens() {
        long n = 0;
        for (int i = 0; i < positions.length; i++) {
            n += visualLengths[i] + textLengths[i];
        }
        return n;
    }

    long paddedTokens() {
        return (long) positions.length * (visualTokens + textTokens);
    }

    /** Runs the model on the batch. */
    Outputs run(SimpleMmca model) {
        int b = positions.length;
        FloatTensor v = FloatTensor.zeros(b, visualTokens, dim);
        FloatTensor t = FloatTensor.zeros(b, textTokens, dim);
        model.forwardInto(inputs, v, t);
        return new Outputs(this, v.array(), t.array());
    }

    /** A batch's outputs, padded as its inputs. */
    static final class Outputs {
        final PaddedBatch batch;
        final float[] visual;
        final float[] text;

        Outputs(PaddedBatch batch, float[] visual, float[] text) {
            this.batch = batch;
            this.visual = visual;
            this.text = text;
        }

        /** Copies batch row {@code i}'s real visual outputs into {@code dst} at {@code offset}. */
        void copyVisual(int i, float[] dst, int offset) {
            System.arraycopy(visual, i * batch.visualTokens * batch.dim, dst, offset, batch.visualLengths[i] * batch.dim);
        }

        /** Copies batch row {@code i}'s real text outputs into {@code dst} at {@code offset}. */
        void copyText(int i, float[] dst, int offset) {
            System.arraycopy(text, i * batch.textTokens * batch.dim, dst, offset, batch.textLengths[i] * batch.dim);
        }
    }
}
