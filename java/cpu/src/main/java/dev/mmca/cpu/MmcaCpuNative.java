package dev.mmca.cpu;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of the C ABI in {@code native/include/mmca/cpu.h} (library {@code libmmcacpu.so}).
 *
 * <p>Every function validates its arguments natively; a C++ exception arrives here as a
 * {@link RuntimeException} carrying the native message (which names the bad argument). Loading
 * this class loads OpenBLAS (the {@code openblas_nolapack} preset, which satisfies
 * {@code libopenblas.so.0}) and then the libraries next to this class under
 * {@code dev/mmca/cpu/linux-x86_64/}. Use it through {@link CpuRuntime}, which catches load failures.
 */
@Platform(include = {"mmca/attention_params.h", "mmca/cpu.h"}, link = "mmcacpu")
public final class MmcaCpuNative {
    /** What {@link MmcaCpuEnv#mmca_cpu_prefer_blas_core} decided before OpenBLAS loaded (-1: OpenBLAS was loaded). */
    static final int BLAS_CORE_CHOICE;

    static {
        // OPENBLAS_CORETYPE must be set before OpenBLAS initialises; if someone else in this JVM already loaded it,
        // its choice stands (and is reported).
        BLAS_CORE_CHOICE = openBlasLoaded() ? -1 : MmcaCpuEnv.mmca_cpu_prefer_blas_core();
        Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        Loader.load();
    }

    private MmcaCpuNative() {
    }

    private static boolean openBlasLoaded() {
        return Loader.getLoadedLibraries().keySet().stream().anyMatch(k -> k.contains("openblas"));
    }

    /** {@code mmca_cpu_weights}: an opaque packed weight matrix; free with {@link #mmca_cpu_weights_free}. */
    @Opaque
    @Name("mmca_cpu_weights")
    public static class Weights extends Pointer {
        static {
            Loader.load();
        }

        public Weights() {
            super((Pointer) null);
        }

        public Weights(Pointer p) {
            super(p);
        }
    }

    /* Operations of a plan. Addresses are raw native addresses; parameter blocks are written by
       dev.mmca.plan.AttentionParamsLayout. The operations return -1, or where a result overflowed float32
       (see native/include/mmca/cpu.h). */

    public static native @Cast("int64_t") long mmca_cpu_attention(@Cast("const mmca_attention_params*") long params);

    public static native @Cast("int64_t") long mmca_cpu_text_attention(@Cast("const mmca_text_params*") long params);

    public static native @Cast("int64_t") long mmca_cpu_interleaved_attention(
            @Cast("const mmca_interleaved_params*") long params);

    public static native Weights mmca_cpu_weights_create(@Const FloatPointer w, @Cast("int64_t") long out,
            @Cast("int64_t") long in);

    public static native @Cast("int64_t") long mmca_cpu_weights_bytes(@Const Weights weights);

    public static native void mmca_cpu_weights_free(Weights weights);

    public static native @Cast("int64_t") long mmca_cpu_linear(@Const Weights weights, @Cast("const float*") long x,
            @Cast("int64_t") long ldx, @Cast("float*") long y, @Cast("int64_t") long ldy, @Cast("int64_t") long rows);

    public static native @Cast("int64_t") long mmca_cpu_add(@Cast("float*") long out, @Cast("const float*") long a,
            @Cast("const float*") long b, @Cast("int64_t") long n);

    public static native void mmca_cpu_scatter_rows(@Cast("const float*") long src, @Cast("int64_t") long srcLd,
            @Cast("float*") long dst, @Cast("int64_t") long dstLd, @Cast("int64_t") long width,
            @Cast("const int32_t*") long rows, @Cast("int64_t") long count);

    public static native int mmca_cpu_params_size();

    public static native int mmca_cpu_format_params(@Cast("const mmca_attention_params*") long params,
            @Cast("char*") BytePointer buf, int size);

    public static native int mmca_cpu_interleaved_params_size();

    public static native int mmca_cpu_format_interleaved_params(@Cast("const mmca_interleaved_params*") long params,
            @Cast("char*") BytePointer buf, int size);

    public static native void mmca_cpu_set_threads(int n);

    public static native int mmca_cpu_threads();

    public static native @Cast("const char*") String mmca_cpu_isa();

    public static native void mmca_cpu_set_isa(@Cast("const char*") String name);

    public static native @Cast("const char*") String mmca_cpu_features();

    public static native @Cast("const char*") String mmca_cpu_blas_core();

    public static native double mmca_cpu_sgemm_gflops(int n, int repeats);

    public static native double mmca_cpu_fma_peak_gflops(double seconds);

    public static native double mmca_cpu_read_bandwidth_gbs(@Cast("int64_t") long bytes, int repeats);

    public static native @Cast("int64_t") long mmca_cpu_malloc_in_use();

}
