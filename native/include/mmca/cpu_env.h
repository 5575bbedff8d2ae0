/*
 * Set-up that must happen before OpenBLAS is loaded (libmmcacpuenv.so, which does not link OpenBLAS).
 */
#ifndef MMCA_CPU_ENV_H
#define MMCA_CPU_ENV_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum mmca_blas_core_choice {
    MMCA_BLAS_CORE_DEFAULT = 0,   /* no AVX-512: OpenBLAS's own choice is the right one */
    MMCA_BLAS_CORE_SKYLAKEX = 1,  /* AVX-512 present: OPENBLAS_CORETYPE=SkylakeX was set */
    MMCA_BLAS_CORE_USER = 2       /* OPENBLAS_CORETYPE was already set (by the user): left as it is */
};

/*
 * Where the CPU has AVX-512 and OPENBLAS_CORETYPE is unset, sets it to SkylakeX, OpenBLAS's AVX-512 kernels,
 * so that OpenBLAS (when it loads afterwards) uses the whole vector width. Returns what was decided.
 */
int32_t mmca_cpu_prefer_blas_core(void);

#ifdef __cplusplus
}
#endif

#endif /* MMCA_CPU_ENV_H */
