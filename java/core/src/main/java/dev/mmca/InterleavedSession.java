package dev.mmca;

import dev.mmca.backend.PreparedInterleaved;
import dev.mmca.plan.InterleavedPlan;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PlanIo;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Incremental decoding of interleaved sequences (SPEC "Interleaved MMCA", "Incremental decoding"): the keys and
 * values of every real token appended so far are cached per batch element together with its modality, and
 * {@link #append} computes only the new tokens' rows, which equal the rows a full forward over the whole
 * sequence gives. A step may mix text and image tokens; padding tokens of a step get zero rows and are not
 * cached, so batch elements may hold different numbers of tokens. {@link #truncate} rolls back.
 *
 * <p>Under {@link ImageAttention#BLOCK} an image token sees the later tokens of its image, so each image must
 * arrive within one append: an append whose first real token is an image token while the element's cache ends
 * with one (it would continue that image, whose earlier rows have been returned already) is refused.
 *
 * <p>One writer at a time: a second {@code append} or {@code truncate} while one runs is refused with
 * {@link IllegalStateException}. A failed call leaves the session exactly as it was. The cache lives in the
 * backend's memory; close the session to free it.
 */
public final class InterleavedSession implements AutoCloseable {
    private final PreparedInterleaved model;
    private final InterleavedPlan plan;
    private final int batch;
    private final boolean growable;
    private final AtomicBoolean busy = new AtomicBoolean();
    private int capacity;
    private Machine.Memory cache;
    /** {@code [batch, capacity]}: the modality of every cached token (entries past a length are stale). */
    private byte[] modality;
    private int[] lengths;
    private boolean closed;

    private InterleavedSession(PreparedInterleaved model, int batch, int capacity, boolean growable) {
        this.model = model;
        this.plan = model.plan();
        this.batch = batch;
        this.capacity = capacity;
        this.growable = growable;
        this.lengths = new int[batch];
        this.modality = new byte[batch * capacity];
    }

    static InterleavedSession open(PreparedInterleaved model, int batch, int capacity, boolean growable) {
        if (batch <= 0) {
            throw new IllegalArgumentException("batch: expected a positive number of sequences, got " + batch);
        }
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity: expected a positive number of tokens, got " + capacity);
        }
        if ((long) batch * capacity > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("capacity: expected batch * capacity below 2^31, got " + batch + " x "
                    + capacity);
        }
        InterleavedSession s = new InterleavedSession(model, batch, capacity, growable);
        s.cache = model.allocateState("cache", cacheElements(model, batch, capacity));
        return s;
    }

    private static long cacheElements(PreparedInterleaved model, int batch, int capacity) {
        return (long) batch * capacity * model.plan().cacheWidth();
    }

    /** The new tokens' outputs {@code [B, n, dim]} for {@code tokens [B, n, dim]} with {@code modality [B, n]}. */
    public FloatTensor append(FloatTensor tokens, Modality modality) {
        Objects.requireNonNull(tokens, "tokens");
        int dim = model.config().dim();
        PreparedInterleaved.checkTokens("tokens", tokens, batch, dim);
        int n = tokens.dim(1);
        FloatTensor out = tokens.isDirect() ? FloatTensor.allocateDirect(batch, n, dim) : FloatTensor.zeros(batch, n, dim);
        appendInto(tokens, modality, out);
        return out;
    }

    /** As {@link #append}, writing the new rows into {@code out [B, n, dim]} (heap or direct). */
    public void appendInto(FloatTensor tokens, Modality stepModality, FloatTensor out) {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(stepModality, "modality");
        Objects.requireNonNull(out, "out");
        exclusive(() -> {
            int dim = model.config().dim();
            PreparedInterleaved.checkTokens("tokens", tokens, batch, dim);
            int n = tokens.dim(1);
            PreparedInterleaved.checkModality("modality", stepModality, batch, n);
            int[] shape = out.shape();
            if (shape.length != 3 || shape[0] != batch || shape[1] != n || shape[2] != dim) {
                throw new IllegalArgumentException("out: expected shape [" + batch + ", " + n + ", " + dim + "], got "
                        + Arrays.toString(shape));
            }
            PreparedInterleaved.checkFinite("tokens", tokens);
            if (model.config().imageAttention() == ImageAttention.BLOCK) {
                requireWholeImages(stepModality, n);
            }
            int[] newLengths = lengths.clone();
            int[] positions = new int[batch * n];
            int needed = 0;
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < n; i++) {
                    boolean real = stepModality.get(b, i) != Modality.PADDING;
                    positions[b * n + i] = real ? newLengths[b]++ : -1;
                }
                needed = Math.max(needed, newLengths[b]);
            }
            if (needed > capacity) {
                if (!growable) {
                    throw new IllegalStateException("InterleavedSession.append: a batch element would hold " + needed
                            + " tokens, past the capacity " + capacity + " (open the session with a larger capacity,"
                            + " or growable)");
                }
                grow(Math.max(needed, 2 * capacity));
            }
            byte[] keys = modality.clone();
            int[] rows = new int[batch * n];
            for (int b = 0; b < batch; b++) {
                for (int i = 0; i < n; i++) {
                    int pos = positions[b * n + i];
                    rows[b * n + i] = pos < 0 ? -1 : b * capacity + pos;
                    if (pos >= 0) {
                        keys[b * capacity + pos] = stepModality.get(b, i);
                    }
                }
            }
            InterleavedPlan.Step step = plan.decodeStep(batch, n, capacity);
            model.run(step.plan, new PlanIo().tensor(step.tokens, tokens)
                    .modality(step.keyModality, Modality.wrap(keys, batch, capacity)).state(step.cache, cache)
                    .ints(step.cacheRows, rows).ints(step.keyLengths, newLengths).ints(step.queryPositions, positions)
                    .tensor(step.out, out));
            lengths = newLengths;  // committed only once the step succeeded
            modality = keys;
        });
    }

    /** Under rule block: refuses a step that would continue an image begun in an earlier append. */
    private void requireWholeImages(Modality step, int n) {
        for (int b = 0; b < batch; b++) {
            if (lengths[b] == 0 || modality[b * capacity + lengths[b] - 1] != Modality.IMAGE) {
                continue;
            }
            for (int i = 0; i < n; i++) {
                byte t = step.get(b, i);
                if (t == Modality.IMAGE) {
                    throw new IllegalArgumentException("modality: with image attention block every image arrives in"
                            + " one append, but batch element " + b + " continues the image that ended its previous"
                            + " append (whose rows could not see these tokens) at token " + i + "; append each image"
                            + " whole, or truncate and append it again");
                }
                if (t == Modality.TEXT) {
                    break;
                }
            }
        }
    }

    /** Moves the cache into a larger one; the old one stays in use if anything fails. */
    private void grow(int newCapacity) {
        if ((long) batch * newCapacity > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("InterleavedSession.append: the cache would need " + newCapacity
                    + " tokens per element, past 2^31 tokens in all");
        }
        Machine.Memory bigger = model.allocateState("cache", cacheElements(model, batch, newCapacity));
        try {
            InterleavedPlan.Grow g = plan.growCache(batch, capacity, newCapacity);
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
        byte[] moved = new byte[batch * newCapacity];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(modality, b * capacity, moved, b * newCapacity, capacity);
        }
        cache.close();
        cache = bigger;
        modality = moved;
        capacity = newCapacity;
    }

    /** Rolls every batch element back to at most {@code length} tokens. */
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

    /** Rolls batch element b back to at most {@code lengths[b]} tokens. */
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

    public int batch() {
        return batch;
    }

    /** Tokens cached for batch element {@code b}. */
    public int length(int b) {
        return lengths[b];
    }

    /** Tokens cached per batch element (a copy). */
    public int[] lengths() {
        return lengths.clone();
    }

    /** The modality of the tokens cached for batch element {@code b}, in the notation of {@link Modality#parse}. */
    public String cachedModality(int b) {
        StringBuilder sb = new StringBuilder(lengths[b]);
        for (int j = 0; j < lengths[b]; j++) {
            sb.append(modality[b * capacity + j] == Modality.IMAGE ? 'i' : 't');
        }
        return sb.toString();
    }

    /** Tokens a batch element can hold before the cache must grow (or an append is refused). */
    public int capacity() {
        return capacity;
    }

    private void exclusive(Runnable body) {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("InterleavedSession: used by two threads at once (a session has one"
                    + " writer at a time; open one session per sequence)");
        }
        try {
            if (closed) {
                throw new IllegalStateException("InterleavedSession: used after close()");
            }
            body.run();
        } finally {
            busy.set(false);
        }
    }

    /** Frees the cache; idempotent. Refused while another thread appends. */
    @Override
    public void close() {
        if (!busy.compareAndSet(false, true)) {
            throw new IllegalStateException("InterleavedSession: close() while another thread uses the session");
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
