package dev.mmca.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/** A cuBLAS handle bound to one stream, for the row-major {@code nn.Linear} products of the model. */
final class Cublas implements AutoCloseable {
    private cublasContext handle;
    private final FloatPointer one = new FloatPointer(1f);
    private final FloatPointer zero = new FloatPointer(0f);

    /** {@code tf32}: allow TF32 tensor-core products; otherwise plain fp32 (CUBLAS_DEFAULT_MATH never uses TF32). */
    Cublas(CUstream_st stream, boolean tf32) {
        cublasContext h = new cublasContext();
        CudaErrors.checkCublas(cublas.cublasCreate_v2(h), "cublasCreate");
        handle = h;
        try {
            CudaErrors.checkCublas(cublas.cublasSetStream_v2(h, stream), "cublasSetStream");
            CudaErrors.checkCublas(cublas.cublasSetMathMode(h,
                    tf32 ? cublas.CUBLAS_TF32_TENSOR_OP_MATH : cublas.CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Makes later products run on {@code stream}. */
    void setStream(CUstream_st stream) {
        CudaErrors.checkCublas(cublas.cublasSetStream_v2(handle, stream), "cublasSetStream");
    }

    /**
     * {@code y[r, o] = sum_i x[r, i] * w[o, i]} for {@code r < rows}, {@code o < out}, {@code i < in}:
     * x row-major with row stride {@code ldx}, w row-major {@code [out, in]}, y row-major with row stride
     * {@code ldy} (device addresses, elements of {@code dtype}). In cuBLAS's column-major terms this is
     * {@code Y^T = W * X^T}, i.e. {@code gemm(T, N, out, rows, in, W, in, X, ldx, Y, ldy)}. fp32 data
     * uses cublasSgemm; fp16/bf16 data cublasGemmEx with fp32 accumulation.
     */
    void linear(CudaDtype dtype, long x, int ldx, long w, long y, int ldy, int rows, int in, int out) {
        String what = "(" + rows + "x" + in + " * " + in + "x" + out + ", " + dtype + ")";
        if (dtype == CudaDtype.F32) {
            CudaErrors.checkCublas(cublas.cublasSgemm_v2(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, out, rows, in,
                    one, new FloatPointer(new DeviceAddress(w)), in, new FloatPointer(new DeviceAddress(x)), ldx,
                    zero, new FloatPointer(new DeviceAddress(y)), ldy), "cublasSgemm" + what);
            return;
        }
        int type = dtype == CudaDtype.BF16 ? cudart.CUDA_R_16BF : cudart.CUDA_R_16F;
        CudaErrors.checkCublas(cublas.cublasGemmEx(handle, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, out, rows, in,
                one, new DeviceAddress(w), type, in, new DeviceAddress(x), type, ldx,
                zero, new DeviceAddress(y), type, ldy, cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT),
                "cublasGemmEx" + what);
    }

    @Override
    public void close() {
        if (handle != null) {
            cublasContext h = handle;
            handle = null;
            one.close();
            zero.close();
            CudaErrors.checkCublas(cublas.cublasDestroy_v2(h), "cublasDestroy");
        }
    }
}
