// Chooses OpenBLAS's kernels before OpenBLAS loads. OpenBLAS's DYNAMIC_ARCH picks its Haswell (AVX2) core
// on some CPUs with AVX-512 (AMD Zen 4 and 5), which leaves half of the machine's FMA throughput unused;
// it reads OPENBLAS_CORETYPE once, when the library initialises. This library has no dependency on
// OpenBLAS, so the Java side loads it first and calls this before OpenBLAS is loaded.
#include <cstdlib>

#include "mmca/cpu_env.h"

extern "C" {

__attribute__((visibility("default"))) int32_t mmca_cpu_prefer_blas_core(void) {
    const char *set = std::getenv("OPENBLAS_CORETYPE");
    if (set != nullptr && *set != '\0') return MMCA_BLAS_CORE_USER;
    __builtin_cpu_init();
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
                        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (!avx512) return MMCA_BLAS_CORE_DEFAULT;
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
    return MMCA_BLAS_CORE_SKYLAKEX;
}

}  // extern "C"
