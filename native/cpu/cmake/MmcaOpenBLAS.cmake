# OpenBLAS from the unpacked org.bytedeco:openblas linux-x86_64 jar (OPENBLAS_ROOT holds
# libopenblas.so.0 and include/). An IMPORTED target on the shared object itself: the jar's own
# OpenBLASConfig.cmake points at lib/libopenblas.so, which that layout does not have.
if(NOT OPENBLAS_ROOT)
  message(FATAL_ERROR "OPENBLAS_ROOT: expected the folder with libopenblas.so.0 and include/cblas.h, got nothing")
endif()
if(NOT EXISTS "${OPENBLAS_ROOT}/libopenblas.so.0")
  message(FATAL_ERROR "OPENBLAS_ROOT: expected ${OPENBLAS_ROOT}/libopenblas.so.0 to exist")
endif()
if(NOT EXISTS "${OPENBLAS_ROOT}/include/cblas.h")
  message(FATAL_ERROR "OPENBLAS_ROOT: expected ${OPENBLAS_ROOT}/include/cblas.h to exist")
endif()
add_library(OpenBLAS::OpenBLAS SHARED IMPORTED)
set_target_properties(OpenBLAS::OpenBLAS PROPERTIES
  IMPORTED_LOCATION "${OPENBLAS_ROOT}/libopenblas.so.0"
  IMPORTED_SONAME "libopenblas.so.0"
  INTERFACE_INCLUDE_DIRECTORIES "${OPENBLAS_ROOT}/include")
