package dev.mmca.backend.java;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Writes the Vector API attention kernels' accumulators out as output rows. The kernels keep a work item's
 * unnormalised outputs transposed, {@code acc[e * stride + lane]} (rows in the vector lanes), so each output row is
 * a column of that array: read element by element, a row costs one strided load per float, which made the final
 * write a tenth of an interleaved attention call. Here 8 x 8 blocks are loaded as 8 contiguous lane vectors, scaled,
 * transposed in registers and stored as 8 contiguous row pieces. The transposition is pure data movement, so the
 * results are the scalar loop's {@code o = acc * scale} bit for bit. (No vector here is chosen by a branch: C2 keeps
 * a vector that two paths merge in a boxed object, which cost more than the strided loop saved.)
 *
 * <p>It always uses 256-bit vectors: the kernels are chosen only where the preferred species has at least 256 bits,
 * and their lane counts are multiples of 8.
 */
final class VectorTransposedRows {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_256;
    /** Rows, and head elements, per block. */
    private static final int W = 8;
    /*
     * An 8 x 8 transposition in three stages, h = 4, 2, 1: rows i and i + h (i & h == 0) exchange their lanes k with
     * k & h != 0 and k & h == 0 respectively: row i keeps its lanes without bit h and takes row i + h's lanes without
     * bit h moved up by h; row i + h takes row i's lanes with bit h moved down by h and keeps its own.
     */
    private static final VectorShuffle<Float> DOWN4 = shift(-4);
    private static final VectorShuffle<Float> DOWN2 = shift(-2);
    private static final VectorShuffle<Float> DOWN1 = shift(-1);
    private static final VectorShuffle<Float> UP4 = shift(4);
    private static final VectorShuffle<Float> UP2 = shift(2);
    private static final VectorShuffle<Float> UP1 = shift(1);
    private static final VectorMask<Float> BIT4 = bit(4);
    private static final VectorMask<Float> BIT2 = bit(2);
    private static final VectorMask<Float> BIT1 = bit(1);

    private VectorTransposedRows() {
    }

    /** Lane k takes lane {@code k - by} (mod 8). */
    private static VectorShuffle<Float> shift(int by) {
        int[] from = new int[W];
        for (int k = 0; k < W; k++) {
            from[k] = Math.floorMod(k - by, W);
        }
        return VectorShuffle.fromArray(S, from, 0);
    }

    /** Lanes k with {@code k & h != 0}. */
    private static VectorMask<Float> bit(int h) {
        boolean[] on = new boolean[W];
        for (int k = 0; k < W; k++) {
            on[k] = (k & h) != 0;
        }
        return VectorMask.fromArray(S, on, 0);
    }

    /**
     * {@code o[dst[lane] + e] = acc[e * stride + lane] * scale[lane]} for e in {@code [0, d)} and every lane in
     * {@code [0, lanes)} whose {@code dst} is not negative; other lanes' rows are not written.
     *
     * @param lanes a multiple of 8, at most {@code stride}
     */
    static void write(float[] acc, float[] scale, int stride, int lanes, int d, float[] o, int[] dst) {
        int dBlocks = d - d % W;
        for (int lb = 0; lb < lanes; lb += W) {
            if (!anyRow(dst, lb)) {
                continue;
            }
            FloatVector s = FloatVector.fromArray(S, scale, lb);
            for (int e0 = 0; e0 < dBlocks; e0 += W) {
                int at = e0 * stride + lb;
                FloatVector r0 = FloatVector.fromArray(S, acc, at).mul(s);
                FloatVector r1 = FloatVector.fromArray(S, acc, at + stride).mul(s);
                FloatVector r2 = FloatVector.fromArray(S, acc, at + 2 * stride).mul(s);
                FloatVector r3 = FloatVector.fromArray(S, acc, at + 3 * stride).mul(s);
                FloatVector r4 = FloatVector.fromArray(S, acc, at + 4 * stride).mul(s);
                FloatVector r5 = FloatVector.fromArray(S, acc, at + 5 * stride).mul(s);
                FloatVector r6 = FloatVector.fromArray(S, acc, at + 6 * stride).mul(s);
                FloatVector r7 = FloatVector.fromArray(S, acc, at + 7 * stride).mul(s);
                // h = 4: pairs (0,4) (1,5) (2,6) (3,7)
                FloatVector a0 = r0.blend(r4.rearrange(UP4), BIT4);
                FloatVector a4 = r0.rearrange(DOWN4).blend(r4, BIT4);
                FloatVector a1 = r1.blend(r5.rearrange(UP4), BIT4);
                FloatVector a5 = r1.rearrange(DOWN4).blend(r5, BIT4);
                FloatVector a2 = r2.blend(r6.rearrange(UP4), BIT4);
                FloatVector a6 = r2.rearrange(DOWN4).blend(r6, BIT4);
                FloatVector a3 = r3.blend(r7.rearrange(UP4), BIT4);
                FloatVector a7 = r3.rearrange(DOWN4).blend(r7, BIT4);
                // h = 2: pairs (0,2) (1,3) (4,6) (5,7)
                FloatVector b0 = a0.blend(a2.rearrange(UP2), BIT2);
                FloatVector b2 = a0.rearrange(DOWN2).blend(a2, BIT2);
                FloatVector b1 = a1.blend(a3.rearrange(UP2), BIT2);
                FloatVector b3 = a1.rearrange(DOWN2).blend(a3, BIT2);
                FloatVector b4 = a4.blend(a6.rearrange(UP2), BIT2);
                FloatVector b6 = a4.rearrange(DOWN2).blend(a6, BIT2);
                FloatVector b5 = a5.blend(a7.rearrange(UP2), BIT2);
                FloatVector b7 = a5.rearrange(DOWN2).blend(a7, BIT2);
                // h = 1: pairs (0,1) (2,3) (4,5) (6,7); vector k is now lane lb + k's elements e0 .. e0 + 7
                FloatVector t0 = b0.blend(b1.rearrange(UP1), BIT1);
                FloatVector t1 = b0.rearrange(DOWN1).blend(b1, BIT1);
                FloatVector t2 = b2.blend(b3.rearrange(UP1), BIT1);
                FloatVector t3 = b2.rearrange(DOWN1).blend(b3, BIT1);
                FloatVector t4 = b4.blend(b5.rearrange(UP1), BIT1);
                FloatVector t5 = b4.rearrange(DOWN1).blend(b5, BIT1);
                FloatVector t6 = b6.blend(b7.rearrange(UP1), BIT1);
                FloatVector t7 = b6.rearrange(DOWN1).blend(b7, BIT1);
                // stored here, not by a helper: C2 may stop inlining a helper in a method this large, and a vector
                // argument of a call that was not inlined is boxed
                int o0 = dst[lb], o1 = dst[lb + 1], o2 = dst[lb + 2], o3 = dst[lb + 3];
                int o4 = dst[lb + 4], o5 = dst[lb + 5], o6 = dst[lb + 6], o7 = dst[lb + 7];
                if (o0 >= 0) t0.intoArray(o, o0 + e0);
                if (o1 >= 0) t1.intoArray(o, o1 + e0);
                if (o2 >= 0) t2.intoArray(o, o2 + e0);
                if (o3 >= 0) t3.intoArray(o, o3 + e0);
                if (o4 >= 0) t4.intoArray(o, o4 + e0);
                if (o5 >= 0) t5.intoArray(o, o5 + e0);
                if (o6 >= 0) t6.intoArray(o, o6 + e0);
                if (o7 >= 0) t7.intoArray(o, o7 + e0);
            }
            for (int lane = lb; lane < lb + W; lane++) {
                int row = dst[lane];
                if (row < 0) {
                    continue;
                }
                for (int e = dBlocks, at = dBlocks * stride + lane; e < d; e++, at += stride) {
                    o[row + e] = acc[at] * scale[lane];
                }
            }
        }
    }

    private static boolean anyRow(int[] dst, int lb) {
        for (int lane = lb; lane < lb + W; lane++) {
            if (dst[lane] >= 0) {
                return true;
            }
        }
        return false;
    }

}
