package dev.mmca.plan;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A computation as data: the tensors it touches and the operations, in order, that every backend executes
 * over its own memory (Java arrays, native buffers, device pointers). Scratch tensors are laid out in one
 * arena of {@link #arenaElements()} float32 elements, so a backend makes one allocation per call (or reuses
 * one across calls). A plan is immutable and cheap to build; one exists per input shape.
 */
public final class Plan {
    /** Scratch tensors start on 16-element (64-byte) boundaries: whole cache lines, aligned vector loads. */
    static final int ALIGNMENT = 16;

    private final List<Buffer> buffers;
    private final List<Op> ops;
    private final long arenaElements;

    private Plan(List<Buffer> buffers, List<Op> ops, long arenaElements) {
        this.buffers = Collections.unmodifiableList(buffers);
        this.ops = Collections.unmodifiableList(ops);
        this.arenaElements = arenaElements;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Every tensor: inputs, outputs and scratch. */
    public List<Buffer> buffers() { return buffers; }
    public List<Op> ops() { return ops; }
    /** Float32 elements of the scratch arena. */
    public long arenaElements() { return arenaElements; }

    /** The largest tensor of the plan (by elements), for messages about memory. */
    public Buffer largest() {
        Buffer best = buffers.get(0);
        for (Buffer b : buffers) {
            if (b.elements() > best.elements()) {
                best = b;
            }
        }
        return best;
    }

    /** Hands every operation, in order, to {@code backend}. */
    public void run(Op.Visitor backend) {
        for (Op op : ops) {
            op.accept(backend);
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Plan{arena=").append(arenaElements);
        for (Op op : ops) {
            sb.append("; ").append(op.name());
        }
        return sb.append('}').toString();
    }

    /** Declares tensors (scratch ones get arena offsets in declaration order) and appends operations. */
    public static final class Builder {
        private final List<Buffer> buffers = new ArrayList<>();
        private final List<Op> ops = new ArrayList<>();
        private long arena;

        private Builder() {
        }

        /** A float32 tensor the caller provides. */
        public Buffer input(String name, long rows, int width) {
            return add(new Buffer(name, Buffer.Role.INPUT, Buffer.Type.F32, rows, width, -1));
        }

        /** A byte mask {@code [batch, length]} the caller provides. */
        public Buffer maskInput(String name, int batch, int length) {
            return add(new Buffer(name, Buffer.Role.INPUT, Buffer.Type.U8, batch, length, -1));
        }

        /** A modality {@code [batch, length]} (one byte per token: 0 padding, 1 text, 2 image) the caller provides. */
        public Buffer modalityInput(String name, int batch, int length) {
            return add(new Buffer(name, Buffer.Role.INPUT, Buffer.Type.U8, batch, length, -1));
        }

        /** An int32 tensor {@code [rows, width]} the caller provides (lengths, positions). */
        public Buffer intInput(String name, int rows, int width) {
            return add(new Buffer(name, Buffer.Role.INPUT, Buffer.Type.I32, rows, width, -1));
        }

        /** A float32 tensor the plan writes completely and the caller receives. */
        public Buffer output(String name, long rows, int width) {
            return add(new Buffer(name, Buffer.Role.OUTPUT, Buffer.Type.F32, rows, width, -1));
        }

        /** A float32 tensor in backend memory that outlives the call ({@link Machine#allocate}), bound by the caller. */
        public Buffer state(String name, long rows, int width) {
            return add(new Buffer(name, Buffer.Role.STATE, Buffer.Type.F32, rows, width, -1));
        }

        /** An intermediate float32 tensor in the arena; every element is written before it is read. */
        public Buffer scratch(String name, long rows, int width) {
            long offset = (arena + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
            Buffer b = add(new Buffer(name, Buffer.Role.SCRATCH, Buffer.Type.F32, rows, width, offset));
            arena = offset + b.elements();
            return b;
        }

        private Buffer add(Buffer b) {
            if (b.rows() <= 0 || b.width() <= 0) {
                throw new IllegalArgumentException(b.name() + ": expected a non-empty tensor, got " + b);
            }
            buffers.add(b);
            return b;
        }

        public Builder op(Op op) {
            ops.add(Objects.requireNonNull(op, "op"));
            return this;
        }

        public Plan build() {
            return new Plan(new ArrayList<>(buffers), new ArrayList<>(ops), arena);
        }
    }
}
