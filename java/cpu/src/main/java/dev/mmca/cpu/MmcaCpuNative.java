package dev.mmca.cpu;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByRef;
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
    static {
        Loader.load(org.bytedeco.openblas.global.openblas_nolapack.class);
        Loader.load();
    }

    private MmcaCpuNative() {
    }

    public static final int HEAD_MAPPING_MODULO = 0;
    public static final int HEAD_MAPPING_GROUPED = 1;
    public static final int DTYPE_F32 = 0;
    public static final int COMPOSITION_CROSS = 0;
    public static final int COMPOSITION_SEED = 1;

    /** {@code mmca_attention_params}: one fused attention problem (strides in elements). */
    @Name("mmca_attention_params")
    public static class AttentionParams extends Pointer {
        static {
            Loader.load();
        }

        /** A zero-filled block in native memory; close it (or let JavaCPP's deallocator free it). */
        public AttentionParams() {
            super((Pointer) null);
            allocate();
        }

        private native void allocate();

        public native @Cast("const void*") Pointer q(); public native AttentionParams q(@Cast("const void*") Pointer p);
        public native @Cast("const void*") Pointer k(); public native AttentionParams k(@Cast("const void*") Pointer p);
        public native @Cast("const void*") Pointer v(); public native AttentionParams v(@Cast("const void*") Pointer p);
        public native Pointer o(); public native AttentionParams o(Pointer p);

        public native @Cast("int64_t") long q_batch_stride(); public native AttentionParams q_batch_stride(long s);
        public native @Cast("int64_t") long q_row_stride(); public native AttentionParams q_row_stride(long s);
        public native @Cast("int64_t") long q_head_stride(); public native AttentionParams q_head_stride(long s);
        public native @Cast("int64_t") long k_batch_stride(); public native AttentionParams k_batch_stride(long s);
        public native @Cast("int64_t") long k_row_stride(); public native AttentionParams k_row_stride(long s);
        public native @Cast("int64_t") long k_head_stride(); public native AttentionParams k_head_stride(long s);
        public native @Cast("int64_t") long v_batch_stride(); public native AttentionParams v_batch_stride(long s);
        public native @Cast("int64_t") long v_row_stride(); public native AttentionParams v_row_stride(long s);
        public native @Cast("int64_t") long v_head_stride(); public native AttentionParams v_head_stride(long s);
        public native @Cast("int64_t") long o_batch_stride(); public native AttentionParams o_batch_stride(long s);
        public native @Cast("int64_t") long o_row_stride(); public native AttentionParams o_row_stride(long s);
        public native @Cast("int64_t") long o_head_stride(); public native AttentionParams o_head_stride(long s);

        public native @Cast("const uint8_t*") BytePointer key_mask();
        public native AttentionParams key_mask(@Cast("const uint8_t*") BytePointer m);
        public native @Cast("int64_t") long key_mask_batch_stride(); public native AttentionParams key_mask_batch_stride(long s);
        public native @Cast("const uint8_t*") BytePointer query_mask();
        public native AttentionParams query_mask(@Cast("const uint8_t*") BytePointer m);
        public native @Cast("int64_t") long query_mask_batch_stride(); public native AttentionParams query_mask_batch_stride(long s);

        public native int batch(); public native AttentionParams batch(int n);
        public native int heads(); public native AttentionParams heads(int n);
        public native int kv_heads(); public native AttentionParams kv_heads(int n);
        public native int queries(); public native AttentionParams queries(int n);
        public native int keys(); public native AttentionParams keys(int n);
        public native int dim_head(); public native AttentionParams dim_head(int n);
        public native float scale(); public native AttentionParams scale(float s);
        public native int causal(); public native AttentionParams causal(int c);
        public native int qk_norm(); public native AttentionParams qk_norm(int c);
        public native int head_mapping(); public native AttentionParams head_mapping(int m);
        public native int dtype(); public native AttentionParams dtype(int t);
    }

    /** {@code mmca_text_params}: the fused text operation (self and cross over the same queries). */
    @Name("mmca_text_params")
    public static class TextParams extends Pointer {
        static {
            Loader.load();
        }

        public TextParams() {
            super((Pointer) null);
            allocate();
        }

        private native void allocate();

        /** The self half, a view into this block (valid while this block is). */
        public native @ByRef AttentionParams self();
        public native TextParams self(@ByRef AttentionParams p);
        /** The cross half, a view into this block. */
        public native @ByRef AttentionParams cross();
        public native TextParams cross(@ByRef AttentionParams p);
    }

    /** {@code mmca_cpu_model_desc}: hyper-parameters and the twelve weight matrices (copied on create). */
    @Name("mmca_cpu_model_desc")
    public static class ModelDesc extends Pointer {
        static {
            Loader.load();
        }

        public ModelDesc() {
            super((Pointer) null);
            allocate();
        }

        private native void allocate();

        public native int dim(); public native ModelDesc dim(int n);
        public native int heads(); public native ModelDesc heads(int n);
        public native int kv_heads(); public native ModelDesc kv_heads(int n);
        public native int dim_head(); public native ModelDesc dim_head(int n);
        public native int causal(); public native ModelDesc causal(int c);
        public native int qk_norm(); public native ModelDesc qk_norm(int c);
        public native int composition(); public native ModelDesc composition(int c);
        public native int head_mapping(); public native ModelDesc head_mapping(int m);
        public native @Const FloatPointer visual_q(); public native ModelDesc visual_q(@Const FloatPointer w);
        public native @Const FloatPointer visual_k(); public native ModelDesc visual_k(@Const FloatPointer w);
        public native @Const FloatPointer visual_v(); public native ModelDesc visual_v(@Const FloatPointer w);
        public native @Const FloatPointer visual_out(); public native ModelDesc visual_out(@Const FloatPointer w);
        public native @Const FloatPointer textual_q(); public native ModelDesc textual_q(@Const FloatPointer w);
        public native @Const FloatPointer textual_k(); public native ModelDesc textual_k(@Const FloatPointer w);
        public native @Const FloatPointer textual_v(); public native ModelDesc textual_v(@Const FloatPointer w);
        public native @Const FloatPointer textual_out(); public native ModelDesc textual_out(@Const FloatPointer w);
        public native @Const FloatPointer cross_q(); public native ModelDesc cross_q(@Const FloatPointer w);
        public native @Const FloatPointer cross_k(); public native ModelDesc cross_k(@Const FloatPointer w);
        public native @Const FloatPointer cross_v(); public native ModelDesc cross_v(@Const FloatPointer w);
        public native @Const FloatPointer cross_out(); public native ModelDesc cross_out(@Const FloatPointer w);
    }

    /** {@code mmca_cpu_model}: an opaque model with packed weights; free with {@link #mmca_cpu_model_free}. */
    @Opaque
    @Name("mmca_cpu_model")
    public static class Model extends Pointer {
        static {
            Loader.load();
        }

        public Model() {
            super((Pointer) null);
        }

        public Model(Pointer p) {
            super(p);
        }
    }

    public static native void mmca_cpu_attention(@Const AttentionParams params);

    public static native void mmca_cpu_text_attention(@Const TextParams params);

    public static native Model mmca_cpu_model_create(@Const ModelDesc desc);

    public static native void mmca_cpu_model_forward(@Const Model model, @Const FloatPointer visual,
            @Const FloatPointer text, @Cast("const uint8_t*") BytePointer visualMask,
            @Cast("const uint8_t*") BytePointer textMask, FloatPointer visualOut, FloatPointer textOut, int batch,
            int visualTokens, int textTokens);

    public static native @Cast("int64_t") long mmca_cpu_model_bytes(@Const Model model);

    public static native void mmca_cpu_model_free(Model model);

    public static native void mmca_cpu_set_threads(int n);

    public static native int mmca_cpu_threads();

    public static native @Cast("const char*") String mmca_cpu_isa();

    public static native void mmca_cpu_set_isa(@Cast("const char*") String name);

    public static native @Cast("const char*") String mmca_cpu_features();

    public static native double mmca_cpu_sgemm_gflops(int n, int repeats);

    public static native @Cast("int64_t") long mmca_cpu_malloc_in_use();

    public static native void mmca_cpu_linear(@Const FloatPointer a, @Const FloatPointer w, FloatPointer c,
            @Cast("int64_t") long rows, @Cast("int64_t") long cols, @Cast("int64_t") long k);
}
