package dev.mmca.cuda;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JNI bindings of the CUDA kernel library ({@code native/cuda/include/mmca_cuda/api.h}, built into
 * {@code libmmcacuda.so} with the CUDA runtime linked statically). Parameter blocks are host addresses of
 * {@code mmca_attention_params} written by {@link dev.mmca.plan.AttentionParamsLayout}; tensors are device
 * addresses. Functions that fail throw a {@link RuntimeException} carrying the C++ message.
 *
 * <p>Loading this class fails when the module was built without CUDA; reach it only through
 * {@link CudaProbe}, which catches that.
 */
@Platform(include = "mmca_cuda/api.h", link = "mmcacuda")
final class CudaNative {
    static {
        Loader.load();
    }

    private CudaNative() {
    }

    static native int mmca_cuda_params_size();

    static native int mmca_cuda_format_params(@Cast("const mmca_attention_params*") long params,
            @Cast("char*") BytePointer buf, int size);

    static native int mmca_cuda_dim_heads(int[] out, int capacity);

    static native @Cast("const char*") String mmca_cuda_driver_problem();

    static native int mmca_cuda_device_count(int[] count);

    static native @Cast("const char*") String mmca_cuda_error_string(int code);

    static native void mmca_cuda_device_info(int device, int[] major, int[] minor, @Cast("int64_t*") long[] totalBytes,
            @Cast("int64_t*") long[] sharedPerBlock);

    static native @Cast("const char*") String mmca_cuda_device_name(int device);

    static native void mmca_cuda_validate(@Cast("const mmca_attention_params*") long params, int math);

    static native void mmca_cuda_validate_text(@Cast("const mmca_text_params*") long params, int math);

    static native @Cast("const char*") String mmca_cuda_support_problem(int device, int dtype, int math, int dimHead);

    static native @Cast("int64_t") long mmca_cuda_workspace_bytes(int device,
            @Cast("const mmca_attention_params*") long params, int math);

    static native @Cast("int64_t") long mmca_cuda_text_workspace_bytes(int device,
            @Cast("const mmca_text_params*") long params, int math);

    static native void mmca_cuda_attention(int device, @Cast("const mmca_attention_params*") long params, int math,
            @Cast("int64_t") long workspace, @Cast("int64_t") long workspaceBytes, @Cast("int64_t") long stream);

    static native void mmca_cuda_text(int device, @Cast("const mmca_text_params*") long params, int math,
            @Cast("int64_t") long workspace, @Cast("int64_t") long workspaceBytes, @Cast("int64_t") long stream);

    static native int mmca_cuda_interleaved_params_size();

    static native int mmca_cuda_format_interleaved_params(@Cast("const mmca_interleaved_params*") long params,
            @Cast("char*") BytePointer buf, int size);

    static native void mmca_cuda_validate_interleaved(@Cast("const mmca_interleaved_params*") long params, int math);

    static native void mmca_cuda_interleaved(int device, @Cast("const mmca_interleaved_params*") long params, int math,
            @Cast("int64_t") long stream);

    static native void mmca_cuda_add(int device, @Cast("int64_t") long out, @Cast("int64_t") long a,
            @Cast("int64_t") long b, @Cast("int64_t") long n, int dtype, @Cast("int64_t") long stream);

    static native void mmca_cuda_convert(int device, @Cast("int64_t") long dst, @Cast("int64_t") long src,
            @Cast("int64_t") long n, int dtype, int toF32, @Cast("int64_t") long stream);

    static native void mmca_cuda_synchronize(int device, @Cast("int64_t") long stream);
}
