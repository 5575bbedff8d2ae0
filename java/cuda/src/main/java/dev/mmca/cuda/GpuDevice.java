package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Closer;
import java.util.HashMap;
import java.util.Map;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

/**
 * A real GPU: a stream and a cuBLAS handle of its own (JavaCPP CUDA presets), allocations through the presets'
 * runtime and launches through the kernel library, both made current on {@link #ordinal()} first (the
 * library links its own runtime, whose current device is separate from the presets').
 */
final class GpuDevice implements CudaDevice {
    private final int ordinal;
    private final Closer owned = new Closer();
    private final Map<Long, DeviceMemory> allocations = new HashMap<>();
    private final CUstream_st own;
    private final Cublas blas;
    private long stream;
    private boolean closed;
    private long split;
    private long splitBytes;

    GpuDevice(int ordinal, boolean tf32) {
        this.ordinal = ordinal;
        try {
            select();
            CUstream_st s = new CUstream_st();
            CudaErrors.check(cudart.cudaStreamCreate(s), "cudaStreamCreate");
            own = s;
            owned.register(() -> CudaErrors.check(cudart.cudaStreamDestroy(s), "cudaStreamDestroy"));
            blas = owned.register(new Cublas(s, tf32));
            stream = s.address();
        } catch (RuntimeException e) {
            owned.close();
            throw e;
        }
    }

    private void select() {
        CudaErrors.check(cudart.cudaSetDevice(ordinal), "cudaSetDevice(" + ordinal + ")");
    }

    @Override
    public int ordinal() {
        return ordinal;
    }

    @Override
    public long allocate(long bytes) {
        select();
        DeviceMemory m = DeviceMemory.allocate(bytes);
        allocations.put(m.address(), m);
        return m.address();
    }

    @Override
    public void free(long address) {
        if (closed) {
            return;  // close() freed everything
        }
        DeviceMemory m = allocations.remove(address);
        if (m == null) {
            throw new IllegalArgumentException("address: expected an allocation of this device, got 0x"
                    + Long.toHexString(address));
        }
        select();
        m.close();
    }

    @Override
    public void copyToDevice(long dst, FloatTensor src) {
        select();
        DeviceMemory.write(dst, src);
    }

    @Override
    public void copyToDevice(long dst, byte[] src) {
        select();
        DeviceMemory.write(dst, src);
    }

    @Override
    public void copyToDevice(long dst, int[] src) {
        select();
        DeviceMemory.write(dst, src);
    }

    @Override
    public void copyOnDevice(long dst, long src, long bytes) {
        select();
        CudaErrors.check(cudart.cudaMemcpyAsync(new DeviceAddress(dst), new DeviceAddress(src), bytes,
                cudart.cudaMemcpyDeviceToDevice, new CUstream_st(new DeviceAddress(stream))), "cudaMemcpyAsync(device to device)");
    }

    @Override
    public void copyToHost(FloatTensor dst, long src) {
        synchronize();
        DeviceMemory.read(src, dst);
    }

    @Override
    public void fill(long address, long bytes, int value) {
        select();
        CudaErrors.check(cudart.cudaMemset(new DeviceAddress(address), value, bytes), "cudaMemset");
    }

    @Override
    public void convert(long dst, long src, long n, CudaDtype dtype, boolean toF32) {
        CudaNative.mmca_cuda_convert(ordinal, dst, src, n, dtype.code(), toF32 ? 1 : 0, stream);
    }

    @Override
    public void linear(CudaDtype dtype, long x, int ldx, long w, long y, int ldy, long rows, int in, int out) {
        select();
        blas.linear(dtype, x, ldx, w, y, ldy, Math.toIntExact(rows), in, out);
    }

    @Override
    public void attention(ParamsBlock params, int math) {
        long need = CudaNative.mmca_cuda_workspace_bytes(ordinal, params.address(), math);
        long ws = splitWorkspace(need);
        CudaNative.mmca_cuda_attention(ordinal, params.address(), math, ws, ws == 0 ? 0 : need, stream);
    }

    @Override
    public void text(ParamsBlock params, int math) {
        long need = CudaNative.mmca_cuda_text_workspace_bytes(ordinal, params.address(), math);
        long ws = splitWorkspace(need);
        CudaNative.mmca_cuda_text(ordinal, params.address(), math, ws, ws == 0 ? 0 : need, stream);
    }

    /**
     * The split-K workspace of a launch (decoding steps over long caches): one grow-only device buffer, used
     * by one launch at a time, since every launch of this device runs in order on its one stream.
     */
    private long splitWorkspace(long bytes) {
        if (bytes <= 0) {
            return 0;
        }
        if (splitBytes < bytes) {
            if (split != 0) {
                free(split);
            }
            split = allocate(bytes);
            splitBytes = bytes;
        }
        return split;
    }

    @Override
    public void interleaved(ParamsBlock params, int math) {
        CudaNative.mmca_cuda_interleaved(ordinal, params.address(), math, stream);
    }

    @Override
    public void add(long out, long a, long b, long n, CudaDtype dtype) {
        CudaNative.mmca_cuda_add(ordinal, out, a, b, n, dtype.code(), stream);
    }

    @Override
    public void synchronize() {
        CudaNative.mmca_cuda_synchronize(ordinal, stream);
    }

    @Override
    public void useStream(long s) {
        stream = s == 0 ? own.address() : s;
        blas.setStream(new CUstream_st(new DeviceAddress(stream)));
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Closer all = new Closer();
        all.register(owned);
        for (DeviceMemory m : allocations.values()) {
            all.register(m);
        }
        allocations.clear();
        try {
            synchronize();
        } finally {
            all.close();
        }
    }
}
