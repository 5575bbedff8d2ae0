package dev.mmca.bench;

import dev.mmca.FloatTensor;
import dev.mmca.SimpleMmca;
import dev.mmca.TextSession;
import dev.mmca.VisualContext;
import dev.mmca.backend.Backend;
import dev.mmca.workload.Workload;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Decoding on one of our backends through the public API, as {@code mmca bench} times it: the visual tokens
 * encoded once ({@link SimpleMmca#encodeVisual}), then one {@link TextSession#appendInto} per text token. The
 * step inputs and outputs are allocated before timing (heap tensors for the pure-Java backend, direct buffers
 * for the others, as in {@link BackendRunner}); the last step is rolled back with {@link TextSession#truncate}.
 */
public final class SessionDecodeRunner implements DecodeRunner {
    private final Backend backend;
    private final int textTokens;
    private final FloatTensor[] steps;
    private final FloatTensor[] outputs;
    private final boolean[] computed;
    private final SimpleMmca model;
    private final VisualContext context;
    private final TextSession session;

    public SessionDecodeRunner(Backend backend, WorkloadData data) {
        Workload w = data.workload();
        if (w.kind() != Workload.Kind.DECODE) {
            throw new IllegalArgumentException("data: expected a DECODE workload, got " + w);
        }
        this.backend = backend;
        this.textTokens = w.textTokens();
        boolean heap = backend.name().equals("java");
        FloatTensor visual = heap ? data.visual() : WorkloadData.direct(data.visual());
        FloatTensor text = heap ? data.text() : WorkloadData.direct(data.text());
        steps = new FloatTensor[textTokens];
        outputs = new FloatTensor[textTokens];
        computed = new boolean[textTokens];
        for (int i = 0; i < textTokens; i++) {
            steps[i] = text.tokens(i, 1);
            outputs[i] = heap ? FloatTensor.zeros(w.batch(), 1, w.dim()) : FloatTensor.allocateDirect(w.batch(), 1, w.dim());
        }
        SimpleMmca m = SimpleMmca.create(w.config(), data.weights(), backend);
        VisualContext c = null;
        try {
            c = m.encodeVisual(visual, null);
            this.session = m.newTextSession(c, textTokens);
        } catch (RuntimeException e) {
            if (c != null) {
                c.close();
            }
            m.close();
            throw e;
        }
        this.model = m;
        this.context = c;
    }

    @Override
    public String name() {
        return backend.name();
    }

    @Override
    public void decodeSequence() {
        session.truncate(0);
        for (int i = 0; i < textTokens; i++) {
            session.appendInto(steps[i], null, outputs[i]);
        }
        Arrays.fill(computed, true);
    }

    @Override
    public void lastStep() {
        int last = textTokens - 1;
        if (session.length(0) < last) {
            // not yet at the end of the sequence (no sequence decoded yet): fill the cache first
            session.truncate(0);
            for (int i = 0; i < last; i++) {
                session.appendInto(steps[i], null, outputs[i]);
                computed[i] = true;
            }
        }
        session.truncate(last);
        session.appendInto(steps[last], null, outputs[last]);
        session.truncate(last);
        computed[last] = true;
    }

    @Override
    public float[] decodedRows() {
        FloatTensor rows = FloatTensor.zeros(outputs[0].dim(0), textTokens, outputs[0].dim(2));
        for (int i = 0; i < textTokens; i++) {
            rows.setTokens(i, outputs[i]);
        }
        return rows.toArray();
    }

    @Override
    public int[] decodedPositions() {
        return IntStream.range(0, textTokens).filter(i -> computed[i]).toArray();
    }

    @Override
    public void close() {
        session.close();
        context.close();
        model.close();
    }
}
