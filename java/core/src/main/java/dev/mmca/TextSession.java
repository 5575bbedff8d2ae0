package dev.mmca;

import dev.mmca.backend.PreparedModel;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.SimpleMmcaPlan;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Incremental text decoding over a {@link VisualContext} (SPEC "Incremental text decoding"): the text
 * self-attention keys and values of every real token appended so far are cached per batch element, and
 * {@link #append} computes only the new tokens' rows, which equal the rows a full forward over the whole
 * text gives. Batch elements may hold different numbers of tokens (padding tokens of a step are skipped
 * and never cached). {@link #truncate} rolls back (beam search, speculative decoding).
 *
 * <p>A session has one writer at a time: a second {@code append} or {@code truncate} while one runs is
 * refused with {@link IllegalStateException}. A failed call leaves the session exactly as it was. The cache
 * lives in the backend's memory; close the session to free it.
 */
public final class TextSession implements AutoCloseable {
    private final PreparedModel model;
    private final VisualContext context;
    private final SimpleMmcaPlan plan;
    private final int batch;
    private final boolean growable;
    private final AtomicBoolean busy = new AtomicBoolean();
    private int capacity;
    private Machine.Memory cache;
    private int[] lengths;
    private boolean closed;

    private TextSession(PreparedModel model, VisualContext context, int capacity, boolean growable) {
        this.model = model;
        this.context = context;
        this.plan = model.plan();
        this.batch = context.batch();
        this.capacity = capacity;
        this.growable = growable;
        this.lengths = new int[batch];
    }

    static TextSession open(PreparedModel model, VisualContext context, int capacity, boolean growable) {
        Objects.requireNonNull(context, "context");
        if (context.model() != model) {
            throw new IllegalArgumentException("context: expected a visual context encoded by this model, got one of "
                    + context.model());
        }
        model.plan().requireDecodable();
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: expected a positive number of text tokens, got " + capacity);
        }
        TextSession s = new TextSession(model, context, capacity, growable);
        s.cache = model.allocateState("textual_self_attn.cache", cacheElements(model, context.batch(), capacity));
        return s;
    }

    private static long cacheElements(PreparedModel model, int batch, int capacity) {
        return (long) batch * capacity * model.plan().cacheWidth();
    }

    /** The new tokens' text outputs {@code [B, n, dim]} for {@code text [B, n, dim]}; {@code textMask [B, n]} or null. */
    public FloatTensor append(FloatTensor text, Mask textMask) {
        Objects.requireNonNull(text, "text");
        int dim = model.config().dim();
        MmcaInputs.checkTokens("text", text, batch, dim);
        int n = text.dim(1);
        FloatTensor out = text.isDirect() ? FloatTensor.allocateDirect(batch, n, dim) : FloatTensor.zeros(batch, n, dim);
        appendInto(text, textMask, out);
        return out;
    }

    /**
     * As {@link #append}, writing the new rows into {@code out [B, n, dim]} (heap or direct). Padding rows of the
     * step are zero and not cached.
     */
    public void appendInto(FloatTensor text, Mask textMask, FloatTensor out) {
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(out, "out");
        exclusive(() -> {
            int dim = model.config().dim();
            MmcaInputs.checkTokens("text", text, batch, dim);
            int n = text.dim(1);
            MmcaInputs.checkMask("textMask", textMask, batch, n);
            int[] shape = out.shape();
            if (shape.length != 3 || shape[0] != batch || shape[1] != n || shape[2] != dim) {
                throw new IllegalArgumentException("out: expected shape [" + batch + ", " + n + ", " + dim + "], got "
                        + Arrays.toString(shape));
            }
            MmcaInputs.checkFinite("text", text);
            int[] newLengths = lengths.clone();
            int[] rows = new int[batch * n];
            int[] positions = new int[batch * n];
            int needed = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < n; i++) {
                    boolean real = textMask == null || textMask.get(b, i);
                    positions[b * n + i] = real ? newLengths[b] : -1;
                    if (real) {
                        newLengths[b]++;
                    }
                }
                needed = Math.max(needed, newLengths[b]);
            }
            if (needed > capacity) {
                if (!growable) {
                    throw new IllegalStateException("TextSession.append: a batch element would hold " + needed
                            + " text tokens, past the capacity " + capacity + " (open the session with a larger"
                            + " capacity, or growable)");
                }
                grow(Math.max(needed, 2 * capacity));
            }
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < n; i++) {
                    int pos = positions[b * n + i];
                    rows[b * n + i] = pos < 0 ? -1 : b * capacity + pos;
                }
            }
            SimpleMmcaPlan.Step step = plan.decodeStep(batch, n, capacity, context.visualTokens(), textMask != null,
                    context.visualMask() != null);
            context.use(kv -> {
                model.run(step.plan, new PlanIo().tensor(step.text, text).mask(step.textMask, textMask)
                        .mask(step.visualMask, context.visualMask()).state(step.crossKv, kv).state(step.cache, cache)
                        .ints(step.cacheRows, rows).ints(step.keyLengths, newLengths).ints(step.queryPositions, positions)
                        .tensor(step.textOut, out));
                return null;
            });
            lengths = newLengths;  // committed only once the step succeeded
        });
    }

    /** Moves the cache into a larger one; the old one stays in use if anything fails. */
    private void grow(int newCapacity) {
        Machine.Memory bigger = model.allocateState("textual_self_attn.cache", cacheElements(model, batch, newCapacity));
        try {
            SimpleMmcaPlan.Grow g = plan.growCache(batch, capacity, newCapacity);
            int[] rows = new int[batch * capacity];
            for (int b = 0; b < batch; b++) {
                for (int r = 0; r < capacity; r++) {
                    rows[b * capacity + r] = r < lengths[b] ? b * newCapacity + r : -1;
                }
            }
            model.run(g.plan, new PlanIo().state(g.from, cache).state(g.to, bigger).ints(g.rows, rows));
        } catch (RuntimeException e) {
            bigger.close();
            throw e;
        }
        cache.close();
        cache = bigger;
        capacity = newCapacity;
    }

    /** Rolls every batch element back to at most {@code length} text tokens. */
    public void truncate(int length) {
        if (length < 0) {
            throw new IllegalArgumentException("length: expected a non-negative number of tokens, got " + length);
        }
        exclusive(() -> {
            for (int b = 0; b < batch; b++) {
                lengths[b] = Math.min(lengths[b], length);
            }
        });
    }

    /** Rolls batch element b back to at most {@code lengths[b]} text tokens. */
    public void truncate(int[] newLengths) {
        Objects.requireNonNull(newLengths, "lengths");
        if (newLengths.length != batch) {
            throw new IllegalArgumentException("lengths: expected " + batch + " lengths (one per batch element), got "
                    + newLengths.length);
        }
        exclusive(() -> {
            for (int b = 0; b < batch; b++) {
                if (newLengths[b] < 0) {
                    throw new IllegalArgumentException("lengths[" + b + "]: expected a non-negative number of tokens,"
                            + " got " + newLengths[b]);
                }
            }
            for (int b = 0; b < batch; b++) {
                lengths[b] = Math.min(lengths[b], newLengths[b]);
            }
        });
    }

    /** Text tokens cached for batch element {@code b}. */
    public int length(int b) {
        return lengths[b];
    }

    /** Text tokens cached per batch element (a copy). */
    public int[] lengths() {
        return lengths.clone();
    }

    /** Tokens a batch element can hold before the cache must grow (or an append is refused). */
    public int capacity() {
        return capacity;
    }

    public VisualContext context() {
        return context;
    }

    private void exclusive(Runnable body) {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("TextSession: used by two threads at once (a session has one writer at a"
                    + " time; open one session per sequence)");
        }
        try {
            if (closed) {
                throw new IllegalStateException("TextSession: used after close()");
            }
            body.run();
        } finally {
            busy.set(false);
        }
    }

    /** Frees the cache; idempotent. Refused while another thread appends. */
    @Override
    public void close() {
        exclusiveClose();
    }

    private void exclusiveClose() {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("TextSession: close() while another thread uses the session");
        }
        try {
            if (!closed) {
                closed = true;
                cache.close();
            }
        } finally {
            busy.set(false);
        }
    }
}
