package dev.mmca.cuda;

import dev.mmca.MmcaException;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;

/** Turns CUDA runtime and cuBLAS status codes into exceptions that name the failed call. */
final class CudaErrors {
    private CudaErrors() {
    }

    static void check(int status, String call) {
        if (status != cudart.cudaSuccess) {
            BytePointer name = cudart.cudaGetErrorName(status);
            BytePointer text = cudart.cudaGetErrorString(status);
            throw new MmcaException(call + " failed: " + (name == null ? "error " + status : name.getString()) + ": "
                    + (text == null ? "" : text.getString()));
        }
    }

    static void checkCublas(int status, String call) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) {
            BytePointer text = cublas.cublasGetStatusString(status);
            throw new MmcaException(call + " failed: cuBLAS status " + status
                    + (text == null ? "" : " (" + text.getString() + ")"));
        }
    }

    /** The message of {@code t} and of each of its causes, joined; JavaCPP puts the real load error in a cause. */
    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- ");
            }
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
        }
        return sb.toString();
    }
}
