package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import java.nio.FloatBuffer;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** One device allocation (cudaMalloc through the JavaCPP presets); {@link #close()} frees it. */
final class DeviceMemory implements AutoCloseable {
    private Pointer pointer;
    private final long bytes;

    private DeviceMemory(Pointer pointer, long bytes) {
        this.pointer = pointer;
        this.bytes = bytes;
    }

    static DeviceMemory allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("bytes: expected a positive size, got " + bytes);
        }
        Pointer p = new Pointer();
        CudaErrors.check(cudart.cudaMalloc(p, bytes), "cudaMalloc(" + bytes + " bytes)");
        return new DeviceMemory(p, bytes);
    }

    static DeviceMemory floats(long count) {
        return allocate(count * Float.BYTES);
    }

    /** A device copy of {@code t} (fp32), written synchronously. */
    static DeviceMemory upload(FloatTensor t) {
        DeviceMemory m = floats(t.size());
        try {
            m.write(t, 0);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** A device copy of a byte mask. */
    static DeviceMemory upload(byte[] values) {
        DeviceMemory m = allocate(Math.max(values.length, 1));
        try (BytePointer host = new BytePointer(values)) {
            CudaErrors.check(cudart.cudaMemcpy(m.pointer, host, values.length, cudart.cudaMemcpyHostToDevice),
                    "cudaMemcpy(mask to device)");
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** Copies a byte mask into the start of this memory; synchronous. */
    void writeBytes(byte[] values) {
        if (values.length > bytes) {
            throw new IllegalArgumentException("values: expected at most " + bytes + " bytes, got " + values.length);
        }
        try (BytePointer host = new BytePointer(values)) {
            CudaErrors.check(cudart.cudaMemcpy(pointer, host, values.length, cudart.cudaMemcpyHostToDevice),
                    "cudaMemcpy(mask to device)");
        }
    }

    long address() {
        if (pointer == null) {
            throw new IllegalStateException("device memory already freed");
        }
        return pointer.address();
    }

    long bytes() {
        return bytes;
    }

    /** Copies {@code t} (fp32) into this memory starting at float {@code offset}; synchronous. */
    void write(FloatTensor t, long offset) {
        long n = t.size();
        checkRange(offset, n);
        Pointer dst = new DeviceAddress(address() + offset * Float.BYTES);
        if (t.isDirect()) {
            FloatPointer src = new FloatPointer(t.buffer());
            CudaErrors.check(cudart.cudaMemcpy(dst, src, n * Float.BYTES, cudart.cudaMemcpyHostToDevice),
                    "cudaMemcpy(host to device)");
        } else {
            try (FloatPointer src = new FloatPointer(t.array())) {
                CudaErrors.check(cudart.cudaMemcpy(dst, src, n * Float.BYTES, cudart.cudaMemcpyHostToDevice),
                        "cudaMemcpy(host to device)");
            }
        }
    }

    /** Copies floats {@code [offset, offset + t.size())} of this memory into {@code t}; synchronous. */
    void read(FloatTensor t, long offset) {
        long n = t.size();
        checkRange(offset, n);
        Pointer src = new DeviceAddress(address() + offset * Float.BYTES);
        if (t.isDirect()) {
            FloatBuffer buffer = t.buffer();
            FloatPointer dst = new FloatPointer(buffer);
            CudaErrors.check(cudart.cudaMemcpy(dst, src, n * Float.BYTES, cudart.cudaMemcpyDeviceToHost),
                    "cudaMemcpy(device to host)");
        } else {
            try (FloatPointer dst = new FloatPointer(n)) {
                CudaErrors.check(cudart.cudaMemcpy(dst, src, n * Float.BYTES, cudart.cudaMemcpyDeviceToHost),
                        "cudaMemcpy(device to host)");
                dst.get(t.array());
            }
        }
    }

    /** Fills the whole allocation with the byte pattern {@code value} (e.g. 0xff: fp32 NaN), synchronously. */
    void fill(int value) {
        CudaErrors.check(cudart.cudaMemset(pointer, value, bytes), "cudaMemset");
    }

    private void checkRange(long offset, long floats) {
        if (offset < 0 || (offset + floats) * Float.BYTES > bytes) {
            throw new IllegalArgumentException("range: expected floats [" + offset + ", " + (offset + floats)
                    + ") within a " + bytes + "-byte allocation");
        }
    }

    @Override
    public void close() {
        if (pointer != null) {
            Pointer p = pointer;
            pointer = null;
            CudaErrors.check(cudart.cudaFree(p), "cudaFree");
        }
    }

}
