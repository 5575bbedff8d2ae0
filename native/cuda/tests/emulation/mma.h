/*
 * Host stand-in for CUDA's <mma.h> (WMMA), used only by kernel_emulation_test: each lane holds the
 * whole tile and computes the whole product, which gives exactly the documented results of
 * load_matrix_sync / mma_sync / store_matrix_sync (layouts and leading dimensions) without tensor cores.
 */
#ifndef MMCA_EMULATED_MMA_H
#define MMCA_EMULATED_MMA_H

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_emulation.h"

namespace nvcuda {
namespace wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
namespace precision {
struct tf32 {};
}  // namespace precision
enum layout_t { mem_row_major, mem_col_major };

/* Rounds to TF32 (10 mantissa bits), to nearest. */
inline float __float_to_tf32(float x) {
    uint32_t b;
    std::memcpy(&b, &x, 4);
    b = (b + 0x1000u) & ~0x1fffu;
    std::memcpy(&x, &b, 4);
    return x;
}

template <typename T> struct storage { using type = T; };
template <> struct storage<precision::tf32> { using type = float; };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
    static constexpr int rows = std::is_same<Use, matrix_b>::value ? K : M;
    static constexpr int cols = std::is_same<Use, matrix_a>::value ? K : N;
    static constexpr int num_elements = rows * cols;
    typename storage<T>::type x[num_elements];
    float at(int r, int c) const { return emu::to_f(x[r * cols + c]); }
};

template <typename Use, int M, int N, int K, typename T, typename Layout, typename P>
void load_matrix_sync(fragment<Use, M, N, K, T, Layout> &f, const P *p, unsigned ldm) {
    using F = fragment<Use, M, N, K, T, Layout>;
    for (int r = 0; r < F::rows; r++) {
        for (int c = 0; c < F::cols; c++) {
            f.x[r * F::cols + c] = std::is_same<Layout, row_major>::value ? p[r * ldm + c] : p[c * ldm + r];
        }
    }
}

template <int M, int N, int K>
void fill_fragment(fragment<accumulator, M, N, K, float> &f, float v) {
    for (int i = 0; i < M * N; i++) f.x[i] = v;
}

template <int M, int N, int K, typename T, typename LA, typename LB>
void mma_sync(fragment<accumulator, M, N, K, float> &d, const fragment<matrix_a, M, N, K, T, LA> &a,
              const fragment<matrix_b, M, N, K, T, LB> &b, const fragment<accumulator, M, N, K, float> &c) {
    float out[M * N];
    for (int r = 0; r < M; r++) {
        for (int n = 0; n < N; n++) {
            float s = c.x[r * N + n];
            for (int k = 0; k < K; k++) s += a.at(r, k) * b.at(k, n);
            out[r * N + n] = s;
        }
    }
    for (int i = 0; i < M * N; i++) d.x[i] = out[i];
}

/* Every lane holds the same tile; lane 0 writes it (the kernels __syncwarp before reading it back). */
template <int M, int N, int K>
void store_matrix_sync(float *p, const fragment<accumulator, M, N, K, float> &f, unsigned ldm, layout_t layout) {
    if (emu::lane() != 0) return;
    for (int r = 0; r < M; r++) {
        for (int c = 0; c < N; c++) {
            (layout == mem_row_major ? p[r * ldm + c] : p[c * ldm + r]) = f.x[r * N + c];
        }
    }
}

}  // namespace wmma
}  // namespace nvcuda

#endif
