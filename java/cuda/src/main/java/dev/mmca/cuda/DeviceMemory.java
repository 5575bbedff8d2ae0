package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import java.nio.FloatBuffer;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * One device allocation (cudaMalloc through the JavaCPP presets, on the presets' current device);
 * {@link #close()} frees it. The static methods copy between host tensors and device addresses.
 */
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
        DeviceMemory m = floats(Math.max(1, t.size()));
        try {
            write(m.address(), t);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
    }

    /** A device copy of a byte mask. */
    static DeviceMemory upload(byte[] values) {
        DeviceMemory m = allocate(Math.max(values.length, 1));
        try {
            write(m.address(), values);
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
        return m;
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

    /** Copies {@code t} (fp32) to device address {@code dst}; synchronous. */
    static void write(long dst, FloatTensor t) {
        long n = t.size();
        Pointer to = new DeviceAddress(dst);
        if (t.isDirect()) {
            FloatPointer src = new FloatPointer(t.buffer());
            CudaErrors.check(cudart.cudaMemcpy(to, src, n * Float.BYTES, cudart.cudaMemcpyHostToDevice),
                    "cudaMemcpy(host to device)");
        } else {
            try (FloatPointer src = new FloatPointer(t.array())) {
                CudaErrors.check(cudart.cudaMemcpy(to, src, n * Float.BYTES, cudart.cudaMemcpyHostToDevice),
                        "cudaMemcpy(host to device)");
            }
        }
    }

    /** Copies bytes to device address {@code dst}; synchronous. */
    static void write(long dst, byte[] values) {
        try (BytePointer host = new BytePointer(values)) {
            CudaErrors.check(cudart.cudaMemcpy(new DeviceAddress(dst), host, values.length, cudart.cudaMemcpyHostToDevice),
                    "cudaMemcpy(bytes to device)");
        }
    }

    /** Copies ints to device address {@code dst}; synchronous. */
    static void write(long dst, int[] values) {
        try (org.bytedeco.javacpp.IntPointer host = new org.bytedeco.javacpp.IntPointer(values)) {
            CudaErrors.check(cudart.cudaMemcpy(new DeviceAddress(dst), host, (long) values.length * Integer.BYTES,
                    cudart.cudaMemcpyHostToDevice), "cudaMemcpy(ints to device)");
        }
    }

    /** Copies {@code t.size()} floats at device address {@code src} into {@code t}; synchronous. */
    static void read(long src, FloatTensor t) {
        long n = t.size();
        Pointer from = new DeviceAddress(src);
        if (t.isDirect()) {
            FloatBuffer buffer = t.buffer();
            FloatPointer dst = new FloatPointer(buffer);
            CudaErrors.check(cudart.cudaMemcpy(dst, from, n * Float.BYTES, cudart.cudaMemcpyDeviceToHost),
                    "cudaMemcpy(device to host)");
        } else {
            try (FloatPointer dst = new FloatPointer(n)) {
                CudaErrors.check(cudart.cudaMemcpy(dst, from, n * Float.BYTES, cudart.cudaMemcpyDeviceToHost),
                        "cudaMemcpy(device to host)");
                dst.get(t.array());
            }
        }
    }

    /** Fills the whole allocation with the byte pattern {@code value} (e.g. 0xff: fp32 NaN), synchronously. */
    void fill(int value) {
        CudaErrors.check(cudart.cudaMemset(pointer, value, bytes), "cudaMemset");
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
