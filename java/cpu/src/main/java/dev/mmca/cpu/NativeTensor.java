package dev.mmca.cpu;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;

/**
 * A tensor as native memory for one call: a direct tensor is passed by address (no copy); a heap
 * tensor is copied once into native memory (inputs before the call, outputs back after it).
 */
final class NativeTensor implements AutoCloseable {
    private final FloatTensor tensor;
    private final FloatPointer pointer;
    private final boolean copied;

    private NativeTensor(FloatTensor tensor, FloatPointer pointer, boolean copied) {
        this.tensor = tensor;
        this.pointer = pointer;
        this.copied = copied;
    }

    /** An input: read by native code. */
    static NativeTensor input(FloatTensor t) {
        if (t.isDirect()) {
            return new NativeTensor(t, new FloatPointer(t.buffer()), false);
        }
        FloatPointer p = new FloatPointer(Math.max(1, t.size()));
        p.put(t.array(), 0, t.size());
        return new NativeTensor(t, p, true);
    }

    /** An output: written completely by native code, copied back by {@link #finish()} for heap tensors. */
    static NativeTensor output(FloatTensor t) {
        if (t.isDirect()) {
            return new NativeTensor(t, new FloatPointer(t.buffer()), false);
        }
        return new NativeTensor(t, new FloatPointer(Math.max(1, t.size())), true);
    }

    FloatPointer pointer() {
        return pointer;
    }

    /** Copies an output back into its heap tensor (no-op for direct tensors). */
    void finish() {
        if (copied) {
            pointer.get(tensor.array(), 0, tensor.size());
        }
    }

    @Override
    public void close() {
        if (copied) {
            pointer.close();
        }
    }

    /** A mask as native bytes (a copy; masks are small), or null. */
    static BytePointer mask(Mask m) {
        if (m == null) {
            return null;
        }
        byte[] bytes = m.bytesView();
        BytePointer p = new BytePointer(Math.max(1, bytes.length));
        p.put(bytes, 0, bytes.length);
        return p;
    }
}
