package dev.mmca.plan;

import java.util.Objects;

/**
 * One tensor of a {@link Plan}: a row-major {@code [rows, width]} matrix of float32 elements (or bytes, for
 * masks). Token tensors have one row per (batch element, token), so {@code rows = batch * tokens}.
 *
 * <p>Inputs and outputs are bound to caller memory when a plan runs; scratch tensors live in one arena the
 * executing backend provides, at {@link #arenaOffset()} elements from its start.
 */
public final class Buffer {
    /** Who provides the memory. */
    public enum Role { INPUT, OUTPUT, SCRATCH }

    /** Element type. */
    public enum Type { F32, U8 }

    private final String name;
    private final Role role;
    private final Type type;
    private final long rows;
    private final int width;
    private final long arenaOffset;

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

    @Override
    public String toString() {
        return name + "[" + rows + ", " + width + "]" + (role == Role.SCRATCH ? "@" + arenaOffset : " " + role);
    }
}
