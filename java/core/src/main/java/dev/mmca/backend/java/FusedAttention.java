package dev.mmca.backend.java;

import java.util.Arrays;

/**
 * Fused masked grouped-query attention in pure Java (SPEC steps 2-5) with the online-softmax
 * formulation: for each (batch, kv head, query tile) task, key tiles stream through while every
 * query row keeps a running max {@code m}, a running sum {@code l} and an unnormalised output
 * {@code acc}:
 * <pre>
 *   s_j = scale * q_i . k_j                  (visible keys only)
 *   m'  = max(m, max_j s_j)
 *   acc = acc * exp(m - m') + sum_j exp(s_j - m') v_j
 *   l   = l   * exp(m - m') + sum_j exp(s_j - m')
 *   out = acc / l                            (zero when no key was visible)
 * </pre>
 * The N x M score matrix is never built; all query heads reading one kv head share each packed
 * key tile. Each output row is produced by one task in a fixed order, so results do not depend
 * on the thread count.
 */
final class FusedAttention {
    static final int QUERY_TILE = 32;
    static final int KEY_TILE = 64;

    private FusedAttention() {
    }

    static void run(AttentionArgs a) {
        int queryTiles = (a.queries + QUERY_TILE - 1) / QUERY_TILE;
        int tasks = a.batch * a.kvHeads * queryTiles;
        Parallel.forEach(tasks, t -> {
            int qt = t % queryTiles;
            int g = (t / queryTiles) % a.kvHeads;
            int b = t / (queryTiles * a.kvHeads);
            tile(a, b, g, qt * QUERY_TILE, Math.min(a.queries, (qt + 1) * QUERY_TILE));
        });
    }

    private static void tile(AttentionArgs a, int b, int g, int i0, int i1) {
        final int d = a.dimHead;
        final int rows = i1 - i0;
        final int groupSize = a.heads / a.kvHeads;
        final int offset = a.keys - a.queries;
        // query heads that read kv head g
        int[] qHeads = new int[groupSize];
        for (int h = 0, n = 0; h < a.heads; h++) {
            if (a.headMapping.kvHeadOf(h, a.heads, a.kvHeads) == g) {
                qHeads[n++] = h;
            }
        }
        int lanes = groupSize * rows;
        float[] q = new float[lanes * d];
        float[] acc = new float[lanes * d];
        float[] m = new float[lanes];
        float[] l = new float[lanes];
        boolean[] active = new boolean[lanes];
        Arrays.fill(m, Float.NEGATIVE_INFINITY);
        for (int hi = 0; hi < groupSize; hi++) {
            for (int r = 0; r < rows; r++) {
                int lane = hi * rows + r;
                int i = i0 + r;
                active[lane] = a.queryMask == null || a.queryMask[b * a.queries + i] != 0;
                int src = a.qOffset + b * a.qBatchStride + i * a.qRowStride + qHeads[hi] * d;
                System.arraycopy(a.q, src, q, lane * d, d);
                if (a.qkNorm) {
                    normalize(q, lane * d, d);
                }
            }
        }
        // keys beyond the last query's causal horizon are never visible to this tile
        int keyEnd = a.causal ? Math.min(a.keys, i1 - 1 + offset + 1) : a.keys;
        float[] kt = new float[d * KEY_TILE];
        float[] s = new float[KEY_TILE];
        boolean[] keyOk = new boolean[KEY_TILE];
        for (int j0 = 0; j0 < keyEnd; j0 += KEY_TILE) {
            int j1 = Math.min(keyEnd, j0 + KEY_TILE);
            int width = j1 - j0;
            boolean anyKey = false;
            for (int j = j0; j < j1; j++) {
                boolean ok = a.keyMask == null || a.keyMask[b * a.keys + j] != 0;
                keyOk[j - j0] = ok;
                anyKey |= ok;
            }
            if (!anyKey) {
                continue;
            }
            packKeys(a, b, g, j0, width, kt);
            for (int lane = 0; lane < lanes; lane++) {
                if (!active[lane]) {
                    continue;
                }
                int i = i0 + lane % rows;
                int last = a.causal ? Math.min(j1 - 1, i + offset) : j1 - 1;
                int visible = last - j0 + 1;
                if (visible <= 0) {
                    continue;
                }
                scores(q, lane * d, kt, d, width, s);
                float tileMax = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < visible; j++) {
                    if (keyOk[j]) {
                        s[j] *= a.scale;
                        tileMax = Math.max(tileMax, s[j]);
                    }
                }
                if (tileMax == Float.NEGATIVE_INFINITY) {
                    continue;
                }
                float mOld = m[lane];
                float mNew = Math.max(mOld, tileMax);
                float correction = mOld == Float.NEGATIVE_INFINITY ? 0f : FastExp.exp(mOld - mNew);
                int ao = lane * d;
                if (correction != 1f) {
                    for (int e = 0; e < d; e++) {
                        acc[ao + e] *= correction;
                    }
                }
                float sum = 0f;
                for (int j = 0; j < visible; j++) {
                    if (!keyOk[j]) {
                        continue;
                    }
                    float p = FastExp.exp(s[j] - mNew);
                    sum += p;
                    int vo = a.vOffset + b * a.vBatchStride + (j0 + j) * a.vRowStride + g * d;
                    float[] v = a.v;
                    for (int e = 0; e < d; e++) {
                        acc[ao + e] += p * v[vo + e];
                    }
                }
                l[lane] = l[lane] * correction + sum;
                m[lane] = mNew;
            }
        }
        for (int hi = 0; hi < groupSize; hi++) {
            for (int r = 0; r < rows; r++) {
                int lane = hi * rows + r;
                int dst = a.oOffset + b * a.oBatchStride + (i0 + r) * a.oRowStride + qHeads[hi] * d;
                if (!active[lane] || l[lane] == 0f) {
                    Arrays.fill(a.o, dst, dst + d, 0f); // no visible key, or a padding query: zero
                    continue;
                }
                float inv = 1f / l[lane];
                int ao = lane * d;
                for (int e = 0; e < d; e++) {
                    a.o[dst + e] = acc[ao + e] * inv;
                }
            }
        }
    }

    /** Copies keys {@code j0..j0+width} of kv head g transposed into {@code kt [d][KEY_TILE]}. */
    private static void packKeys(AttentionArgs a, int b, int g, int j0, int width, float[] kt) {
        int d = a.dimHead;
        for (int j = 0; j < width; j++) {
            int src = a.kOffset + b * a.kBatchStride + (j0 + j) * a.kRowStride + g * d;
            float inv = 1f;
            if (a.qkNorm) {
                inv = inverseNorm(a.k, src, d);
            }
            for (int e = 0; e < d; e++) {
                kt[e * KEY_TILE + j] = a.k[src + e] * inv;
            }
        }
    }

    /** {@code s[j] = q . k_j} for the packed tile; the loop over j is contiguous so it vectorises. */
    private static void scores(float[] q, int qo, float[] kt, int d, int width, float[] s) {
        Arrays.fill(s, 0, width, 0f);
        for (int e = 0; e < d; e++) {
            float qe = q[qo + e];
            int ko = e * KEY_TILE;
            for (int j = 0; j < width; j++) {
                s[j] += qe * kt[ko + j];
            }
        }
    }

    /** L2-normalises {@code x[o..o+d)} in place, as {@code F.normalize}: divide by max(||x||, 1e-12). */
    static void normalize(float[] x, int o, int d) {
        float inv = inverseNorm(x, o, d);
        for (int e = 0; e < d; e++) {
            x[o + e] *= inv;
        }
    }

    private static float inverseNorm(float[] x, int o, int d) {
        double ss = 0;
        for (int e = 0; e < d; e++) {
            ss += (double) x[o + e] * x[o + e];
        }
        return (float) (1.0 / Math.max(Math.sqrt(ss), 1e-12));
    }
}
