package dev.mmca.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One block of native memory for the calls of a {@link CpuMachine}: the parameter blocks of the current
 * operation, the plan's scratch arena and copies of heap tensors and masks. Kept and reused between calls
 * (one per concurrent call); grows, never shrinks; freed by {@link #close()}.
 */
final class NativeWorkspace implements AutoCloseable {
    /** Start of every region: 64 bytes, a cache line and an AVX-512 vector. */
    static final int ALIGNMENT = 64;

    private final long bytes;
    private Pointer block;
    private final long base;
    /** The whole block as floats, for bulk copies to and from heap arrays. */
    private final FloatPointer floats;
    private final BytePointer byteView;
    private final IntPointer ints;

    private NativeWorkspace(long bytes) {
        this.bytes = bytes;
        Pointer p = Pointer.malloc(bytes + ALIGNMENT);
        if (p == null || p.isNull()) {
            throw new dev.mmca.MmcaException("cpu backend: could not allocate " + bytes + " bytes of native memory"
                    + " (malloc failed)");
        }
        this.block = p;
        this.base = (p.address() + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        this.floats = new FloatPointer(new RawAddress(base));
        this.byteView = new BytePointer(new RawAddress(base));
        this.ints = new IntPointer(new RawAddress(base));
    }

    /** A workspace of at least {@code bytes} bytes. */
    static NativeWorkspace allocate(long bytes) {
        return new NativeWorkspace(Math.max(bytes, ALIGNMENT));
    }

    long bytes() {
        return bytes;
    }

    /** The native address {@code offset} bytes into the block. */
    long address(long offset) {
        return base + offset;
    }

    /** A native-order view of bytes {@code [offset, offset + length)} (length below 2^31). */
    ByteBuffer view(long offset, int length) {
        return byteView.position(offset).limit(offset + length).asByteBuffer().order(ByteOrder.nativeOrder());
    }

    /** Copies {@code n} floats of {@code src} to the block at byte {@code offset} (a multiple of 4). */
    void put(long offset, float[] src, int n) {
        floats.position(offset / Float.BYTES).put(src, 0, n);
    }

    /** Copies {@code n} floats from the block at byte {@code offset} into {@code dst}. */
    void get(long offset, float[] dst, int n) {
        floats.position(offset / Float.BYTES).get(dst, 0, n);
    }

    void put(long offset, byte[] src) {
        byteView.position(offset).put(src, 0, src.length);
    }

    void put(long offset, int[] src) {
        ints.position(offset / Integer.BYTES).put(src, 0, src.length);
    }

    @Override
    public void close() {
        if (block != null) {
            Pointer.free(block);
            block = null;
        }
    }

    /** Rounds a byte count up to {@link #ALIGNMENT}. */
    static long aligned(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /** A pointer at an address this class owns through {@link #block}; never freed by JavaCPP itself. */
    private static final class RawAddress extends Pointer {
        RawAddress(long address) {
            this.address = address;
        }
    }
}
