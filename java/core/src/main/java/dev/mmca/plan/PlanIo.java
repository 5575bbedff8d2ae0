package dev.mmca.plan;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.Modality;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The caller's memory for one run of a plan: a tensor for every float input and output, a mask or a modality
 * for every byte input, int32 values for every length or position input.
 */
public final class PlanIo {
    private final Map<Buffer, FloatTensor> tensors = new IdentityHashMap<>();
    private final Map<Buffer, Mask> masks = new IdentityHashMap<>();
    private final Map<Buffer, Modality> modalities = new IdentityHashMap<>();
    private final Map<Buffer, int[]> ints = new IdentityHashMap<>();
    private final Map<Buffer, Machine.Memory> states = new IdentityHashMap<>();

    public PlanIo tensor(Buffer buffer, FloatTensor t) {
        if (buffer.type() != Buffer.Type.F32 || buffer.isScratch() || buffer.role() == Buffer.Role.STATE
                || t.size() != buffer.elements()) {
            throw new IllegalArgumentException(buffer.name() + ": cannot bind " + t + " to " + buffer);
        }
        tensors.put(buffer, t);
        return this;
    }

    /** Binds a mask; a null buffer (the plan has no such mask) is ignored. */
    public PlanIo mask(Buffer buffer, Mask m) {
        if (buffer == null) {
            return this;
        }
        if (buffer.type() != Buffer.Type.U8 || m == null || m.batch() != buffer.rows() || m.length() != buffer.width()) {
            throw new IllegalArgumentException(buffer.name() + ": cannot bind " + m + " to " + buffer);
        }
        masks.put(buffer, m);
        return this;
    }

    /** Binds a modality (0 padding, 1 text, 2 image per token) to a byte input of its shape. */
    public PlanIo modality(Buffer buffer, Modality m) {
        if (buffer.type() != Buffer.Type.U8 || m == null || m.batch() != buffer.rows() || m.length() != buffer.width()) {
            throw new IllegalArgumentException(buffer.name() + ": cannot bind " + m + " to " + buffer);
        }
        modalities.put(buffer, m);
        return this;
    }

    /** Binds int32 values (lengths, positions), row-major; a null buffer is ignored. */
    public PlanIo ints(Buffer buffer, int[] values) {
        if (buffer == null) {
            return this;
        }
        if (buffer.type() != Buffer.Type.I32 || values == null || values.length != buffer.elements()) {
            throw new IllegalArgumentException(buffer.name() + ": cannot bind "
                    + (values == null ? "null" : values.length + " ints") + " to " + buffer);
        }
        ints.put(buffer, values);
        return this;
    }

    /** The int32 values bound to an input. */
    public int[] ints(Buffer buffer) {
        int[] v = ints.get(buffer);
        if (v == null) {
            throw new IllegalStateException(buffer.name() + ": no ints bound");
        }
        return v;
    }

    /** Binds backend memory to a state tensor. */
    public PlanIo state(Buffer buffer, Machine.Memory memory) {
        if (buffer.role() != Buffer.Role.STATE || memory == null || memory.elements() < buffer.elements()) {
            throw new IllegalArgumentException(buffer.name() + ": cannot bind " + memory + " to " + buffer);
        }
        states.put(buffer, memory);
        return this;
    }

    /** The memory bound to a state tensor. */
    public Machine.Memory state(Buffer buffer) {
        Machine.Memory m = states.get(buffer);
        if (m == null) {
            throw new IllegalStateException(buffer.name() + ": no memory bound");
        }
        return m;
    }

    /** The tensor bound to an input or output. */
    public FloatTensor tensor(Buffer buffer) {
        FloatTensor t = tensors.get(buffer);
        if (t == null) {
            throw new IllegalStateException(buffer.name() + ": no tensor bound");
        }
        return t;
    }

    /** The bytes bound to a byte input: its mask's 0/1 or its modality's 0/1/2 (not a copy: do not modify). */
    public byte[] bytes(Buffer buffer) {
        Modality m = modalities.get(buffer);
        return m != null ? m.bytesView() : mask(buffer).bytesView();
    }

    /** The mask bound to a mask input. */
    public Mask mask(Buffer buffer) {
        Mask m = masks.get(buffer);
        if (m == null) {
            throw new IllegalStateException(buffer.name() + ": no mask bound");
        }
        return m;
    }
}
