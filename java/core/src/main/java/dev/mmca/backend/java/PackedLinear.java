package dev.mmca.backend.java;

import dev.mmca.FloatTensor;

/**
 * A projection {@code y = x * W^T} with {@code W} given as one or more {@code [out_i, in]} matrices
 * stacked along out (so q, k and v of a block come from one GEMM), stored transposed as
 * {@code [in, out]} once, so that the inner loop runs over contiguous outputs and the JIT can
 * vectorise it.
 */
public final class PackedLinear {
    /** Rows of x handled together: each loaded weight row feeds this many accumulators. */
    private static final int ROW_BLOCK = 4;
    /** Output columns per task: keeps the accumulator rows in L1. */
    private static final int COL_TILE = 512;
    /** Inputs per pass: keeps the weight tile in L2. */
    private static final int K_TILE = 256;

    /** Input width. */
    public final int in;
    /** Output width. */
    public final int out;
    /** {@code [in, out]} row-major. */
    private final float[] wt;

    private PackedLinear(int in, int out, float[] wt) {
        this.in = in;
        this.out = out;
        this.wt = wt;
    }

    /** Stacks {@code parts} (each {@code [out_i, in]}) along out and transposes. */
    public static PackedLinear stack(FloatTensor... parts) {
        int in = parts[0].dim(1);
        int out = 0;
        for (FloatTensor p : parts) {
            out += p.dim(0);
        }
        float[] wt = new float[in * out];
        int col = 0;
        for (FloatTensor p : parts) {
            int rows = p.dim(0);
            float[] src = p.toArray();
            for (int o = 0; o < rows; o++) {
                for (int i = 0; i < in; i++) {
                    wt[i * out + col + o] = src[o * in + i];
                }
            }
            col += rows;
        }
        return new PackedLinear(in, out, wt);
    }

    /**
     * Concatenates {@code parts} (each {@code [out, in_i]}) along in, i.e. {@code y = [x_1 | x_2] * [W_1 | W_2]^T},
     * and transposes.
     */
    public static PackedLinear concatInputs(FloatTensor... parts) {
        int out = parts[0].dim(0);
        int in = 0;
        for (FloatTensor p : parts) {
            in += p.dim(1);
        }
        float[] wt = new float[in * out];
        int base = 0;
        for (FloatTensor p : parts) {
            int cols = p.dim(1);
            float[] src = p.toArray();
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < cols; i++) {
                    wt[(base + i) * out + o] = src[o * cols + i];
                }
            }
            base += cols;
        }
        return new PackedLinear(in, out, wt);
    }

    /** {@code y[r, :] = x[r, :] * W^T} for {@code rows} rows; {@code x [rows, in]}, {@code y [rows, out]}. */
    public void apply(float[] x, int rows, float[] y) {
        int rowBlocks = (rows + ROW_BLOCK - 1) / ROW_BLOCK;
        int colTiles = (out + COL_TILE - 1) / COL_TILE;
        Parallel.forEach(rowBlocks * colTiles, task -> {
            int rb = task / colTiles;
            int ct = task % colTiles;
            int r0 = rb * ROW_BLOCK;
            int r1 = Math.min(rows, r0 + ROW_BLOCK);
            int c0 = ct * COL_TILE;
            int c1 = Math.min(out, c0 + COL_TILE);
            block(x, y, r0, r1, c0, c1);
        });
    }

    private void block(float[] x, float[] y, int r0, int r1, int c0, int c1) {
        int width = c1 - c0;
        for (int r = r0; r < r1; r++) {
            java.util.Arrays.fill(y, r * out + c0, r * out + c1, 0f);
        }
        for (int k0 = 0; k0 < in; k0 += K_TILE) {
            int k1 = Math.min(in, k0 + K_TILE);
            int r = r0;
            for (; r + 3 < r1; r += 4) {
                rows4(x, y, r, k0, k1, c0, width);
            }
            for (; r < r1; r++) {
                int yo = r * out + c0;
                for (int k = k0; k < k1; k++) {
                    float a = x[r * in + k];
                    int wo = k * out + c0;
                    for (int c = 0; c < width; c++) {
                        y[yo + c] += a * wt[wo + c];
                    }
                }
            }
        }
    }

    /** Four rows at once: each weight element loaded once feeds four fused multiply-adds. */
    private void rows4(float[] x, float[] y, int r, int k0, int k1, int c0, int width) {
        int y0 = r * out + c0;
        int y1 = y0 + out;
        int y2 = y1 + out;
        int y3 = y2 + out;
        for (int k = k0; k < k1; k++) {
            float a0 = x[r * in + k];
            float a1 = x[(r + 1) * in + k];
            float a2 = x[(r + 2) * in + k];
            float a3 = x[(r + 3) * in + k];
            int wo = k * out + c0;
            for (int c = 0; c < width; c++) {
                float w = wt[wo + c];
                y[y0 + c] += a0 * w;
                y[y1 + c] += a1 * w;
                y[y2 + c] += a2 * w;
                y[y3 + c] += a3 * w;
            }
        }
    }
}
