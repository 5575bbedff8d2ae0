/*
 * Host stand-in for src/mma_ops.cuh (kernel_emulation_test puts this folder first on its include path).
 * Same functions, computed on the CPU from the fragment layouts of the PTX ISA, so a kernel that puts a
 * value in the wrong register, lane or shared-memory row gets a wrong result here as on a GPU:
 *
 *   mma.m16n8k16 (.f16/.bf16), element i of lane (g = lane/4, t = lane%4):
 *     A: row g for i in {0,1,4,5}, else g+8;   col 2t + (i & 1) (+ 8 for i >= 4)
 *     B: row 2t + (i & 1) (+ 8 for i >= 2);    col g
 *   mma.m16n8k8 (.tf32):
 *     A: row g for a0, a2, g+8 for a1, a3;      col t for a0, a1, t+4 for a2, a3
 *     B: row t for b0, t+4 for b1;              col g
 *   C/D (both): row g for c0, c1, g+8 for c2, c3;  col 2t + (i & 1)
 *   ldmatrix .m8n8.b16: matrix m's row r is at the address of lane 8m + r; lane receives row lane/4,
 *     16-bit columns 2(lane%4) and 2(lane%4)+1 (.trans: rows 2(lane%4), 2(lane%4)+1 of column lane/4),
 *     the lower column in the lower half of the register.
 *
 * Tensor-core arithmetic, modelled on the measurements of Fasi, Higham, Mikaitis and Pranesh,
 * "Numerical behavior of NVIDIA tensor cores" (PeerJ CS, 2021): the products of one mma are exact;
 * they and the accumulator are aligned to the largest of them, truncated to 24 significant bits of it,
 * added exactly, and the sum is rounded toward zero to fp32. tf32 operands keep their top 19 bits (the
 * hardware ignores the rest), so an operand the kernel forgot to round loses precision here too.
 *
 * cp.async copies happen when the issuing thread's cp.async.wait_group covers them (as late as the PTX
 * memory model allows), so shared memory read before the wait and a barrier shows the poison instead.
 */
#ifndef MMCA_EMULATED_MMA_OPS_CUH
#define MMCA_EMULATED_MMA_OPS_CUH

#include <cstdint>
#include <cstring>

#include "cuda_emulation.h"

namespace emu {

inline void cp_async(void *dst, const void *src, bool fill) {
    if (!in_shared(dst, 16) || reinterpret_cast<uintptr_t>(dst) % 16 != 0) {
        throw Fault("emulation: cp.async destination outside shared memory or not 16-byte aligned");
    }
    if (src == nullptr || reinterpret_cast<uintptr_t>(src) % 16 != 0) {
        throw Fault("emulation: cp.async source NULL or not 16-byte aligned");
    }
    me().open.push_back({dst, src, fill});
}

inline void cp_commit() {
    Fiber &f = me();
    f.groups.push_back(std::move(f.open));
    f.open.clear();
}

inline void cp_wait(int pending) {
    Fiber &f = me();
    while ((int)f.groups.size() > pending) {
        for (const CopyJob &j : f.groups.front()) {
            if (j.fill) std::memcpy(j.dst, j.src, 16);
            else std::memset(j.dst, 0, 16);
        }
        f.groups.pop_front();
    }
}

/*
 * Shared-memory bank conflicts of ldmatrix: each 8x8 matrix is read in one pass of 8 rows x 16 bytes,
 * free of conflicts when the 8 rows fall in 8 different 16-byte bank groups (address / 16 mod 8).
 */
struct BankStats {
    long long matrices = 0, conflicted = 0;
};
inline BankStats &bank_stats() {
    static BankStats s;
    return s;
}

inline void ldmatrix(uint32_t (&r)[4], const void *row, bool trans) {
    if (!in_shared(row, 16) || reinterpret_cast<uintptr_t>(row) % 16 != 0) {
        throw Fault("emulation: ldmatrix row address outside shared memory or not 16-byte aligned");
    }
    const uint64_t a = reinterpret_cast<uintptr_t>(row);
    uint32_t in[2] = {(uint32_t)a, (uint32_t)(a >> 32)};
    emu::collective(trans ? 11 : 10, trans ? "ldmatrix.trans" : "ldmatrix", in, 2, r, 4,
                    [trans](uint32_t (*i)[12], uint32_t (*o)[4]) {
                        auto row_of = [&](int m, int rr) {
                            return reinterpret_cast<const uint16_t *>((uint64_t)i[8 * m + rr][0]
                                                                      | ((uint64_t)i[8 * m + rr][1] << 32));
                        };
                        for (int m = 0; m < 4; m++) {
                            unsigned groups = 0;
                            for (int rr = 0; rr < 8; rr++) {
                                groups |= 1u << ((reinterpret_cast<uintptr_t>(row_of(m, rr)) / 16) % 8);
                            }
                            bank_stats().matrices++;
                            if (groups != 0xffu) bank_stats().conflicted++;
                            for (int l = 0; l < 32; l++) {
                                uint16_t lo, hi;
                                if (!trans) {
                                    lo = row_of(m, l / 4)[2 * (l % 4)];
                                    hi = row_of(m, l / 4)[2 * (l % 4) + 1];
                                } else {
                                    lo = row_of(m, 2 * (l % 4))[l / 4];
                                    hi = row_of(m, 2 * (l % 4) + 1)[l / 4];
                                }
                                o[l][m] = (uint32_t)lo | ((uint32_t)hi << 16);
                            }
                        }
                    });
}

/* The sum of exact terms as the tensor cores form it (see above). */
inline float tensor_core_sum(const double *terms, int n) {
    double largest = 0.0, plain = 0.0;
    for (int k = 0; k < n; k++) {
        plain += terms[k];
        largest = std::fmax(largest, std::fabs(terms[k]));
    }
    if (!std::isfinite(plain) || !std::isfinite(largest)) return (float)plain;
    if (largest == 0.0) return 0.0f;
    int e;
    std::frexp(largest, &e);  // largest in [2^(e-1), 2^e)
    const double quantum = std::ldexp(1.0, e - 24);
    double sum = 0.0;
    for (int k = 0; k < n; k++) sum += std::trunc(terms[k] / quantum) * quantum;  // exact in double
    float f = (float)sum;
    if (std::fabs((double)f) > std::fabs(sum)) f = std::nextafter(f, 0.0f);
    return f;
}

enum class MmaType { kF16, kBF16, kTF32 };

inline double operand(uint32_t reg, int half, MmaType type) {
    if (type == MmaType::kTF32) return (double)from_bits(reg & 0xffffe000u);
    const uint16_t h = (uint16_t)(half ? reg >> 16 : reg & 0xffffu);
    if (type == MmaType::kBF16) return (double)from_bits((uint32_t)h << 16);
    __half x;
    std::memcpy(static_cast<void *>(&x), &h, 2);
    return (double)__half2float(x);
}

inline void mma(MmaType type, float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    uint32_t in[10];
    for (int k = 0; k < 4; k++) in[k] = a[k];
    in[4] = b[0];
    in[5] = b[1];
    for (int k = 0; k < 4; k++) in[6 + k] = bits(d[k]);
    uint32_t out[4];
    const int kind = 20 + (int)type;
    emu::collective(kind, "mma.sync", in, 10, out, 4, [type](uint32_t (*i)[12], uint32_t (*o)[4]) {
        const int K = type == MmaType::kTF32 ? 8 : 16;
        double A[16][16], B[16][8];
        float C[16][8];
        for (int l = 0; l < 32; l++) {
            const int g = l / 4, t = l % 4;
            if (type == MmaType::kTF32) {
                for (int e = 0; e < 4; e++) A[g + ((e & 1) ? 8 : 0)][t + (e >= 2 ? 4 : 0)] = operand(i[l][e], 0, type);
                B[t][g] = operand(i[l][4], 0, type);
                B[t + 4][g] = operand(i[l][5], 0, type);
            } else {
                for (int e = 0; e < 8; e++) {
                    const int row = (e < 2 || (e >= 4 && e < 6)) ? g : g + 8;
                    const int col = 2 * t + (e & 1) + (e >= 4 ? 8 : 0);
                    A[row][col] = operand(i[l][e / 2], e % 2, type);
                }
                for (int e = 0; e < 4; e++) {
                    B[2 * t + (e & 1) + (e >= 2 ? 8 : 0)][g] = operand(i[l][4 + e / 2], e % 2, type);
                }
            }
            for (int e = 0; e < 4; e++) C[g + (e >= 2 ? 8 : 0)][2 * t + (e & 1)] = from_bits(i[l][6 + e]);
        }
        for (int l = 0; l < 32; l++) {
            const int g = l / 4, t = l % 4;
            for (int e = 0; e < 4; e++) {
                const int row = g + (e >= 2 ? 8 : 0), col = 2 * t + (e & 1);
                double terms[17];
                for (int k = 0; k < K; k++) terms[k] = A[row][k] * B[k][col];
                terms[K] = (double)C[row][col];
                o[l][e] = bits(tensor_core_sum(terms, K + 1));
            }
        }
    });
    for (int k = 0; k < 4; k++) d[k] = from_bits(out[k]);
}

}  // namespace emu

namespace mmca_cuda {

inline void cp_async_16(void *dst, const void *src, bool fill) { emu::cp_async(dst, src, fill); }
inline void cp_async_commit() { emu::cp_commit(); }
template <int N>
inline void cp_async_wait() {
    emu::cp_wait(N);
}
inline void ldmatrix_x4(uint32_t (&r)[4], const void *row) { emu::ldmatrix(r, row, false); }
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void *row) { emu::ldmatrix(r, row, true); }
inline void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    emu::mma(emu::MmaType::kBF16, d, a, b);
}
inline void mma_f16_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    emu::mma(emu::MmaType::kF16, d, a, b);
}
inline void mma_tf32_1688(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    emu::mma(emu::MmaType::kTF32, d, a, b);
}

/* cvt.rna.tf32.f32: add half of the dropped range to the magnitude, then drop the low 13 bits. */
inline uint32_t tf32_round(float x) {
    const uint32_t u = emu::bits(x);
    if ((u & 0x7f800000u) == 0x7f800000u) return u;  // inf, NaN
    return (u + 0x1000u) & 0xffffe000u;
}

inline uint32_t pack_bf16x2(float lo, float hi) {
    const __nv_bfloat16 l = __float2bfloat16_rn(lo), h = __float2bfloat16_rn(hi);
    uint16_t a, b;
    std::memcpy(&a, &l, 2);
    std::memcpy(&b, &h, 2);
    return (uint32_t)a | ((uint32_t)b << 16);
}

inline uint32_t pack_f16x2(float lo, float hi) {
    const __half l = __float2half_rn(lo), h = __float2half_rn(hi);
    uint16_t a, b;
    std::memcpy(&a, &l, 2);
    std::memcpy(&b, &h, 2);
    return (uint32_t)a | ((uint32_t)b << 16);
}

}  // namespace mmca_cuda

#endif
