package dev.mmca;

import dev.mmca.backend.AttentionProblem;

/**
 * Floating-point operation counts used to report GFLOP/s: {@code 2 * rows * in * out} per
 * projection GEMM and {@code 4 * D} per visible (query, key, head) triple of attention
 * ({@link AttentionProblem#flops()}), for unmasked inputs.
 */
public final class MmcaFlops {
    private MmcaFlops() {
    }

    /** FLOPs of one SimpleMMCA forward on {@code batch} elements of {@code nv} visual and {@code nt} text tokens. */
    public static double forward(MmcaConfig c, int batch, int nv, int nt) {
        double dim = c.dim();
        double hd = c.innerDim();
        double gd = c.kvInnerDim();
        double qkv = hd + 2 * gd;
        double f = 0;
        f += 2.0 * batch * nv * dim * qkv;           // visual q, k, v
        f += attention(c, batch, nv, nv, c.visualCausal());
        f += 2.0 * batch * nv * hd * dim;            // visual out
        f += 2.0 * batch * nt * dim * qkv;           // textual q, k, v
        f += attention(c, batch, nt, nt, c.textCausal());
        if (c.composition() == Composition.CROSS) {
            f += 2.0 * batch * nt * dim * hd;        // cross q from text
            f += 2.0 * batch * nv * dim * 2 * gd;    // cross k, v from the visual output
            f += attention(c, batch, nt, nv, false);
        } else {
            f += 2.0 * batch * nt * dim * qkv;       // cross q, k, v from text + visual
            f += attention(c, batch, nt, nt, c.crossCausal());
        }
        f += 2.0 * batch * nt * 2 * hd * dim;        // text out over [o_self | o_cross]
        return f;
    }

    private static double attention(MmcaConfig c, int batch, int n, int m, boolean causal) {
        return AttentionProblem.builder().batch(batch).heads(c.heads()).kvHeads(c.kvHeads()).queries(n).keys(m)
                .dimHead(c.dimHead()).causal(causal).build().flops();
    }
}
