package dev.mmca.plan;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import java.util.IdentityHashMap;
import java.util.Map;

/** The caller's memory for one run of a plan: a tensor for every input and output, a mask for every mask input. */
public final class PlanIo {
    private final Map<Buffer, FloatTensor> tensors = new IdentityHashMap<>();
    private final Map<Buffer, Mask> masks = new IdentityHashMap<>();

    public PlanIo tensor(Buffer buffer, FloatTensor t) {
        if (buffer.type() != Buffer.Type.F32 || buffer.isScratch() || t.size() != buffer.elements()) {
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

    /** The tensor bound to an input or output. */
    public FloatTensor tensor(Buffer buffer) {
        FloatTensor t = tensors.get(buffer);
        if (t == null) {
            throw new IllegalStateException(buffer.name() + ": no tensor bound");
        }
        return t;
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
