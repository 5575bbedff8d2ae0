/*
 * The warp-level instructions of the attention kernels (sm_80+), one inline-PTX wrapper each:
 * cp.async (global -> shared, asynchronous, zero fill), ldmatrix (shared -> mma fragments), mma.sync
 * (tensor cores: m16n8k16 for fp16/bf16, m16n8k8 for tf32) and cvt.rna.tf32.
 *
 * The kernels include this file as <mma_ops.cuh>, through the include path: the host emulation test
 * puts tests/emulation first on its path, where a file of the same name implements these functions
 * on the CPU with the fragment layouts of the PTX ISA ("Matrix Fragments for mma.m16n8k16 / m16n8k8",
 * "ldmatrix"), so that the kernels' use of them is checked without a GPU.
 *
 * Fragment layouts, with lane = %laneid, g = lane / 4, t = lane % 4 (PTX ISA):
 *   m16n8k16 .f16/.bf16  A (16x16, row): reg0 = A[g][2t, 2t+1], reg1 = A[g+8][2t, 2t+1],
 *                                         reg2 = A[g][2t+8, 2t+9], reg3 = A[g+8][2t+8, 2t+9]
 *                        B (16x8, col):  reg0 = B[2t, 2t+1][g],  reg1 = B[2t+8, 2t+9][g]
 *   m16n8k8 .tf32        A (16x8):  a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4]
 *                        B (8x8):   b0 = B[t][g], b1 = B[t+4][g]
 *   accumulators C/D (16x8, f32):   c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
 *   ldmatrix .m8n8 .b16: lanes 8m..8m+7 give the row addresses of matrix m; lane receives, in register m,
 *                        row lane/4, 16-bit columns 2(lane%4), 2(lane%4)+1 (with .trans: column lane/4 of
 *                        rows 2(lane%4), 2(lane%4)+1). A 16-byte row of four fp32 values is an 8x8 .b16
 *                        row as well: lane then receives row lane/4, fp32 column lane%4.
 */
#ifndef MMCA_CUDA_MMA_OPS_CUH
#define MMCA_CUDA_MMA_OPS_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

namespace mmca_cuda {

__device__ __forceinline__ uint32_t shared_address(const void *p) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

/*
 * Starts copying 16 bytes from global `src` to shared `dst` (both 16-byte aligned), bypassing L1
 * (.cg: K/V tiles are read once per CTA). With fill == false nothing is read and dst gets 16 zero
 * bytes (src must still be a valid address; callers pass the tensor's base).
 */
__device__ __forceinline__ void cp_async_16(void *dst, const void *src, bool fill) {
    const int src_bytes = fill ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(dst)), "l"(src),
                 "r"(src_bytes)
                 : "memory");
}

/* Closes the group of this thread's copies started since the last commit. */
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }

/* Waits until at most N of this thread's committed groups are still in flight (others' copies need a barrier). */
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

/* Four 8x8 .b16 matrices; this lane gives the address of row lane % 8 of matrix lane / 8. */
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void *row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(shared_address(row)));
}

/* As ldmatrix_x4, each matrix transposed (column-major in shared memory). */
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void *row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(shared_address(row)));
}

/* d += a * b, 16x8x16, bf16 products, fp32 accumulation. */
__device__ __forceinline__ void mma_bf16_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* d += a * b, 16x8x16, fp16 products, fp32 accumulation. */
__device__ __forceinline__ void mma_f16_16816(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* d += a * b, 16x8x8, tf32 products (operands from tf32_round), fp32 accumulation. */
__device__ __forceinline__ void mma_tf32_1688(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2]) {
    asm("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

/* fp32 -> tf32 (10 mantissa bits), round to nearest, ties away from zero; returns the bit pattern. */
__device__ __forceinline__ uint32_t tf32_round(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}

/* Two fp32 values as one bf16x2 / f16x2 register, `lo` in the low half (the fragment's lower column). */
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&v);
}

__device__ __forceinline__ uint32_t pack_f16x2(float lo, float hi) {
    const __half2 v = __floats2half2_rn(lo, hi);
    return *reinterpret_cast<const uint32_t *>(&v);
}

}  // namespace mmca_cuda

#endif
