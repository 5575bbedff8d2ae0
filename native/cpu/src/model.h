// A SimpleMMCA model with its weights packed once: one concatenated projection matrix per input
// and one concatenated output matrix for the two text blocks, each stored transposed ([in, out]).
#ifndef MMCA_CPU_MODEL_H
#define MMCA_CPU_MODEL_H

#include <cstdint>
#include <vector>

#include "mmca/cpu.h"

namespace mmca::cpu {

struct Model {
    int dim, heads, kv_heads, dim_head;
    bool causal, qk_norm, seed;
    int head_mapping;
    // Visual block: [to_q; to_k; to_v] as one [(H + 2G) D, dim] matrix, and to_out [dim, H D].
    std::vector<float> visual_qkv, visual_out;
    // CROSS: from t, [textual to_q; cross to_q; textual to_k; textual to_v]  [(2H + 2G) D, dim];
    //        from the visual output, [cross to_k; cross to_v]  [2 G D, dim].
    // SEED:  from t, [textual to_q; to_k; to_v]; from t + visual output, [cross to_q; to_k; to_v].
    std::vector<float> text_proj, cross_proj;
    // [textual to_out | cross to_out]  [dim, 2 H D]: one GEMM over the side-by-side head outputs
    // gives text = o_self Wo_text^T + o_cross Wo_cross^T.
    std::vector<float> text_out;

    explicit Model(const mmca_cpu_model_desc &d);
    void forward(const float *visual, const float *text, const uint8_t *visual_mask, const uint8_t *text_mask,
                 float *visual_out_data, float *text_out_data, int batch, int nv, int nt) const;
    int64_t bytes() const;

private:
    /** Replaces w ([out, in] row-major) by its transpose [in, out]. */
    static void transpose(std::vector<float> &w, int64_t in);
};

}  // namespace mmca::cpu

struct mmca_cpu_model {
    mmca::cpu::Model model;
    uint64_t magic;  // set while alive, cleared on free: catches a freed or foreign pointer early
};

#endif
