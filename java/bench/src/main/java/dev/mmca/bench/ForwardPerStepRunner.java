package dev.mmca.bench;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaInputs;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;
import dev.mmca.workload.Workload;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.stream.IntStream;

/**
 * Decoding without sessions, as a user of the forward API alone has to do it: at step t, the whole
 * {@link SimpleMmca#forwardInto} over the visual tokens and text tokens {@code 0..t}, keeping only row t of the
 * text output. Every step recomputes the visual side and every earlier text token, so a sequence costs the sum of
 * forwards of growing length. The prefix input and the kept row are copied inside the timed call, since the user
 * pays for them too; the visual output, and for native backends the text output and the prefix input, live in
 * buffers allocated once (the pure-Java backend gets heap tensors of each length).
 */
public final class ForwardPerStepRunner implements DecodeRunner {
    private final Backend backend;
    private final SimpleMmca model;
    private final int batch;
    private final int textTokens;
    private final int dim;
    private final boolean heap;
    private final float[] text;
    private final FloatTensor visual;
    private final FloatTensor visualOut;
    private final FloatBuffer prefixStorage;
    private final FloatBuffer textOutStorage;
    private final float[] rows;
    private final boolean[] computed;

    public ForwardPerStepRunner(Backend backend, WorkloadData data) {
        Workload w = data.workload();
        if (w.kind() != Workload.Kind.DECODE) {
            throw new IllegalArgumentException("data: expected a DECODE workload, got " + w);
        }
        this.backend = backend;
        this.batch = w.batch();
        this.textTokens = w.textTokens();
        this.dim = w.dim();
        this.heap = backend.name().equals("java");
        this.text = data.text().toArray();
        this.visual = heap ? data.visual() : WorkloadData.direct(data.visual());
        this.visualOut = heap ? FloatTensor.zeros(visual.shape()) : FloatTensor.allocateDirect(visual.shape());
        this.prefixStorage = heap ? null : directFloats(text.length);
        this.textOutStorage = heap ? null : directFloats(text.length);
        this.rows = new float[text.length];
        this.computed = new boolean[textTokens];
        this.model = SimpleMmca.create(w.config(), data.weights(), backend);
    }

    private static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Override
    public String name() {
        return backend.name() + "-forward-per-step";
    }

    /** Text tokens per batch element of the whole sequence. */
    public int textTokens() {
        return textTokens;
    }

    /**
     * One step of this way of decoding: the forward over the visual tokens and the first {@code length} text
     * tokens, keeping row {@code length - 1}.
     */
    public void forwardAt(int length) {
        if (length < 1 || length > textTokens) {
            throw new IllegalArgumentException("length: expected 1.." + textTokens + " text tokens, got " + length);
        }
        FloatTensor prefix;
        FloatTensor textOut;
        if (heap) {
            float[] values = new float[batch * length * dim];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(text, b * textTokens * dim, values, b * length * dim, length * dim);
            }
            prefix = FloatTensor.of(values, batch, length, dim);
            textOut = FloatTensor.zeros(batch, length, dim);
        } else {
            FloatBuffer in = prefixStorage.duplicate();
            in.clear();
            for (int b = 0; b < batch; b++) {
                in.put(text, b * textTokens * dim, length * dim);
            }
            in.flip();
            prefix = FloatTensor.wrap(in, batch, length, dim);
            textOut = FloatTensor.wrap(textOutStorage.duplicate(), batch, length, dim);
        }
        model.forwardInto(new MmcaInputs(visual, prefix, null, null), visualOut, textOut);
        int row = length - 1;
        for (int b = 0; b < batch; b++) {
            int from = (b * length + row) * dim;
            int to = (b * textTokens + row) * dim;
            if (heap) {
                System.arraycopy(textOut.array(), from, rows, to, dim);
            } else {
                textOut.buffer().position(from).get(rows, to, dim);
            }
        }
        computed[row] = true;
    }

    @Override
    public void decodeSequence() {
        for (int length = 1; length <= textTokens; length++) {
            forwardAt(length);
        }
    }

    /** The forward over every text token, row {@code Nt - 1} kept (no cache to roll back). */
    @Override
    public void lastStep() {
        forwardAt(textTokens);
    }

    @Override
    public float[] decodedRows() {
        return rows.clone();
    }

    @Override
    public int[] decodedPositions() {
        return IntStream.range(0, textTokens).filter(i -> computed[i]).toArray();
    }

    @Override
    public void close() {
        model.close();
    }
}
