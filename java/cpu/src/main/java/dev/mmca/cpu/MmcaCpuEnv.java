package dev.mmca.cpu;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP binding of {@code native/include/mmca/cpu_env.h} ({@code libmmcacpuenv.so}, which does not link
 * OpenBLAS): set-up that must happen before OpenBLAS loads. {@link MmcaCpuNative} calls it first.
 */
@Platform(include = "mmca/cpu_env.h", link = "mmcacpuenv")
final class MmcaCpuEnv {
    static {
        Loader.load();
    }

    private MmcaCpuEnv() {
    }

    static final int BLAS_CORE_DEFAULT = 0;
    static final int BLAS_CORE_SKYLAKEX = 1;
    static final int BLAS_CORE_USER = 2;

    static native int mmca_cpu_prefer_blas_core();
}
