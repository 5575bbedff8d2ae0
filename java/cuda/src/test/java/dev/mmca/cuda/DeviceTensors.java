package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import java.util.ArrayList;
import java.util.List;

/**
 * For tests: fp32 host tensors put on the device in a chosen element type, outputs allocated
 * NaN-poisoned, results read back as fp32. Frees everything it allocated on close.
 */
final class DeviceTensors implements AutoCloseable {
    private final CudaDtype dtype;
    private final List<DeviceMemory> held = new ArrayList<>();

    DeviceTensors(CudaDtype dtype) {
        this.dtype = dtype;
    }

    private DeviceMemory hold(DeviceMemory m) {
        held.add(m);
        return m;
    }

    /** A device copy of {@code t} in this dtype; returns its address. */
    long input(FloatTensor t) {
        DeviceMemory f32 = hold(DeviceMemory.upload(t));
        if (dtype == CudaDtype.F32) {
            return f32.address();
        }
        DeviceMemory h = hold(DeviceMemory.allocate((long) t.size() * dtype.bytes()));
        CudaNative.mmca_cuda_convert(0, h.address(), f32.address(), t.size(), dtype.code(), 0, 0L);
        return h.address();
    }

    /** A device byte mask, or 0 for null. */
    long mask(Mask m) {
        return m == null ? 0 : hold(DeviceMemory.upload(m.bytesView())).address();
    }

    /** An output of {@code elements} in this dtype, every byte 0xff (NaN in fp32, fp16 and bf16). */
    long poisonedOutput(long elements) {
        DeviceMemory m = hold(DeviceMemory.allocate(elements * dtype.bytes()));
        m.fill(0xff);
        return m.address();
    }

    /** Reads {@code shape} elements at {@code address} (this dtype) into a new fp32 host tensor. */
    FloatTensor read(long address, int... shape) {
        FloatTensor out = FloatTensor.zeros(shape);
        DeviceMemory f32 = hold(DeviceMemory.floats(out.size()));
        f32.fill(0xff);
        if (dtype == CudaDtype.F32) {
            CudaNative.mmca_cuda_synchronize(0, 0L);
            copy(address, f32, out.size());
        } else {
            CudaNative.mmca_cuda_convert(0, f32.address(), address, out.size(), dtype.code(), 1, 0L);
        }
        CudaNative.mmca_cuda_synchronize(0, 0L);
        DeviceMemory.read(f32.address(), out);
        return out;
    }

    private static void copy(long src, DeviceMemory dst, long floats) {
        CudaErrors.check(org.bytedeco.cuda.global.cudart.cudaMemcpy(new DeviceAddress(dst.address()),
                new DeviceAddress(src), floats * Float.BYTES, org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToDevice),
                "cudaMemcpy(device to device)");
    }

    @Override
    public void close() {
        for (int i = held.size() - 1; i >= 0; i--) {
            held.get(i).close();
        }
        held.clear();
    }
}
