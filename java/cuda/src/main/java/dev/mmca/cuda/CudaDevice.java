package dev.mmca.cuda;

import dev.mmca.FloatTensor;

/**
 * The operations a {@link CudaMachine} issues to one GPU, in order, on one stream: memory, copies, cuBLAS
 * projections and the kernel library's launches. {@link GpuDevice} runs them on a real device; tests run
 * the machine on a host stand-in of this interface, so the machine's memory layout and encodings are
 * checked without a GPU. Addresses are device addresses of elements of the given type.
 */
interface CudaDevice extends AutoCloseable {
    /** The CUDA device ordinal everything runs on. */
    int ordinal();

    long allocate(long bytes);

    void free(long address);

    /** fp32 host tensor to device memory; synchronous. */
    void copyToDevice(long dst, FloatTensor src);

    void copyToDevice(long dst, byte[] src);

    void copyToDevice(long dst, int[] src);

    /** {@code bytes} bytes from device address {@code src} to {@code dst}, in stream order. */
    void copyOnDevice(long dst, long src, long bytes);

    /** Device memory (fp32) into a host tensor; waits for the work issued before. */
    void copyToHost(FloatTensor dst, long src);

    /** Sets {@code bytes} bytes to {@code value} (0xff: NaN in every float type); synchronous. */
    void fill(long address, long bytes, int value);

    /** {@code n} fp32 elements to {@code dtype}, or back when {@code toF32}. */
    void convert(long dst, long src, long n, CudaDtype dtype, boolean toF32);

    /** {@code y[r, o] = sum_i x[r, i] w[o, i]}: x rows of stride ldx, {@code w [out, in]} dense, y rows of stride ldy. */
    void linear(CudaDtype dtype, long x, int ldx, long w, long y, int ldy, long rows, int in, int out);

    /** One attention problem: block 0 of {@code params}. */
    void attention(ParamsBlock params, int math);

    /** The fused text operation: blocks 0 (self) and 1 (cross) of {@code params}. */
    void text(ParamsBlock params, int math);

    /** Interleaved attention: the {@code mmca_interleaved_params} block at the start of {@code params}. */
    void interleaved(ParamsBlock params, int math);

    void add(long out, long a, long b, long n, CudaDtype dtype);

    /** Waits for everything issued and reports asynchronous failures. */
    void synchronize();

    /** Issues later work on {@code stream} (a raw cudaStream_t); 0 restores the device's own stream. */
    void useStream(long stream);

    @Override
    void close();
}
