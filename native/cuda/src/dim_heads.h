/*
 * The head widths with compiled kernels: the one list. The dispatcher (launch.cuh) instantiates and
 * selects kernels from it, validation (validate.cpp) accepts exactly it, and mmca_cuda_dim_heads exports
 * it, which is where the Java backend reads its capabilities from. Plain C++: no CUDA headers.
 */
#ifndef MMCA_CUDA_DIM_HEADS_H
#define MMCA_CUDA_DIM_HEADS_H

#define MMCA_FOR_EACH_DIM_HEAD(X) X(32) X(64) X(80) X(96) X(128)

#endif
