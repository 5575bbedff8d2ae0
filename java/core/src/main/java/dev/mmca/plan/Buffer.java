package dev.mmca.plan;

import java.util.Objects;

/**
 * One tensor of a {@link Plan}: a row-major {@code [rows, width]} matrix of float32 elements (bytes for
 * masks, int32 for lengths and positions). Token tensors have one row per (batch element, token), so {@code rows = batch * tokens}.
 *
 * <p>Inputs and outputs are bound to caller memory when a plan runs; scratch tensors live in one arena the
 * executing backend provides, at {@link #arenaOffset()} elements from its start; state tensors are backend
 * memory ({@link Machine.Memory}) that the caller keeps between runs.
 */
public final class Buffer {
    /**
     * Who provides the memory: the caller (inputs, outputs), the call's arena (scratch), or backend memory that
     * outlives calls (state: a decoding cache, a visual context's keys and values), bound by the caller.
     */
    public enum Role { INPUT, OUTPUT, SCRATCH, STATE }

    /** Element type: float32, bytes (masks), int32 (lengths and positions). */
    public enum Type {
        F32(4), U8(1), I32(4);

        private final int bytes;

        Type(int bytes) {
            this.bytes = bytes;
        }

        /** Bytes per element. */
        public int bytes() {
            return bytes;
        }
    }

    private final String name;
    private final Role role;
    private final Type type;
    private final long rows;
    private final int width;
    private final long arenaOffset;
    private int tokens;

    Buffer(String name, Role role, Type type, long rows, int width, long arenaOffset) {
        this.name = Objects.requireNonNull(name, "name");
        this.role = Objects.requireNonNull(role, "role");
        this.type = Objects.requireNonNull(type, "type");
        this.rows = rows;
        this.width = width;
        this.arenaOffset = arenaOffset;
    }

    /** What the tensor is, e.g. {@code visual_self_attn.qkv}; used in error messages. */
    public String name() { return name; }
    public Role role() { return role; }
    public Type type() { return type; }
    public long rows() { return rows; }
    /** Elements per row, which is also the row stride. */
    public int width() { return width; }
    /** Number of elements, {@code rows * width}. */
    public long elements() { return rows * width; }

    /** For scratch tensors, the first element's offset in the arena; -1 otherwise. */
    public long arenaOffset() { return arenaOffset; }

    public boolean isScratch() { return role == Role.SCRATCH; }

    /** Rows per batch element of a token tensor (row r is token r % tokens of element r / tokens); 0 if unknown. */
    public int tokens() { return tokens; }

    /** Declares the rows as {@code tokens} per batch element; returns this buffer. */
    public Buffer tokensPerElement(int n) {
        if (n <= 0 || rows % n != 0) {
            throw new IllegalArgumentException(name + ": " + rows + " rows are not a whole number of elements of " + n
                    + " tokens");
        }
        this.tokens = n;
        return this;
    }

    /** Where row {@code r} is, for messages: "batch element b, token i" or "row r". */
    public String describeRow(long r) {
        return tokens > 0 ? "batch element " + r / tokens + ", token " + r % tokens : "row " + r;
    }

    @Override
    public String toString() {
        return name + "[" + rows + ", " + width + "]" + (role == Role.SCRATCH ? "@" + arenaOffset : " " + role);
    }
}
