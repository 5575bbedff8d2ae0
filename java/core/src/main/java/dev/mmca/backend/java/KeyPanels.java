package dev.mmca.backend.java;

import java.util.Arrays;

/**
 * Keys and values packed for the Vector API attention micro-kernels ({@link VectorAttention}): tiles of up to
 * {@link VectorAttention#KEY_TILE} visible keys, each tile split into panels the kernels read with one index and
 * constant offsets, so that C2 removes their bounds checks from the inner loops:
 * <ul>
 *   <li>keys in groups of {@link #groupWidth} keys (6, then 4, 2, 1 for the tail of a tile): a group of width w
 *       starting at tile column j is stored element-major, {@code k[at + j d + e w + c]} for key {@code j + c};</li>
 *   <li>values in groups of head elements of the same widths over {@code d}: the group of width w starting at
 *       element e0 is stored key-major, {@code v[at + e0 W + j w + c]} for element {@code e0 + c} of tile column
 *       j (W the tile's width).</li>
 * </ul>
 * With qk_norm the keys are packed normalised. {@link #pack} packs a whole call once, shared by all its work items
 * (the items of one batch element and kv head read the same tiles); {@link #packTile} packs one tile.
 */
final class KeyPanels {
    /** Keys (or head elements) per full group: the micro-kernels' register block. */
    static final int GROUP = 6;

    /** Per batch element: its visible keys (unmasked, within its key length), ascending. */
    final int[][] keys;
    /** Per {@code b * kvHeads + g}: the packed keys, tile t (of keys {@code keys[b][t T ..]}) at {@code t T d}. */
    final float[][] k;
    /** The packed values, laid out as {@link #k}. */
    final float[][] v;

    private KeyPanels(int[][] keys, float[][] k, float[][] v) {
        this.keys = keys;
        this.k = k;
        this.v = v;
    }

    /**
     * The width of the group starting at column {@code j} of a tile (or head element j of d) of {@code width}:
     * {@link #GROUP} while a whole group fits, then the tail (at most 5) as 4, 2 and 1.
     */
    static int groupWidth(int width, int j) {
        if (j < width / GROUP * GROUP) {
            return GROUP;
        }
        int rest = width - j;
        return rest >= 4 ? 4 : rest >= 2 ? 2 : 1;
    }

    /** Every visible key of the call, packed in tiles of {@code tile} keys per batch element and kv head. */
    static KeyPanels pack(AttentionArgs a, int tile) {
        final int d = a.dimHead;
        int[][] keys = new int[a.batch][];
        for (int b = 0; b < a.batch; b++) {
            int length = a.keyLengths == null ? a.keys : Math.max(0, Math.min(a.keys, a.keyLengths[b]));
            int[] visible = new int[length];
            int n = 0;
            for (int j = 0; j < length; j++) {
                if (a.keyMask == null || a.keyMask[b * a.keys + j] != 0) {
                    visible[n++] = j;
                }
            }
            keys[b] = n == length ? visible : Arrays.copyOf(visible, n);
        }
        float[][] k = new float[a.batch * a.kvHeads][];
        float[][] v = new float[a.batch * a.kvHeads][];
        int tiles = 0;
        for (int bg = 0; bg < k.length; bg++) {
            int n = keys[bg / a.kvHeads].length;
            k[bg] = new float[n * d];
            v[bg] = new float[n * d];
            tiles += (n + tile - 1) / tile;
        }
        // one task per tile: its (b, g) and first key
        int[] taskPair = new int[tiles];
        int[] taskFrom = new int[tiles];
        for (int bg = 0, t = 0; bg < k.length; bg++) {
            for (int from = 0; from < keys[bg / a.kvHeads].length; from += tile, t++) {
                taskPair[t] = bg;
                taskFrom[t] = from;
            }
        }
        Parallel.forEach(tiles, t -> {
            int bg = taskPair[t];
            int[] bKeys = keys[bg / a.kvHeads];
            int from = taskFrom[t];
            packTile(a, bg / a.kvHeads, bg % a.kvHeads, bKeys, from, Math.min(tile, bKeys.length - from), k[bg],
                    v[bg], from * d, new float[d]);
        });
        return new KeyPanels(keys, k, v);
    }

    /**
     * Packs the keys {@code keyIndex[from, from + width)} of batch element b and kv head g (L2-normalised with
     * qk_norm) and their values as one tile at {@code at} of kp and vp (the layout above); {@code row} is scratch
     * of d floats.
     */
    static void packTile(AttentionArgs a, int b, int g, int[] keyIndex, int from, int width, float[] kp, float[] vp,
            int at, float[] row) {
        final int d = a.dimHead;
        for (int j0 = 0; j0 < width; j0 += groupWidth(width, j0)) {
            int w = groupWidth(width, j0);
            for (int c = 0; c < w; c++) {
                int j = j0 + c;
                int key = keyIndex[from + j];
                System.arraycopy(a.k, a.kOffset + b * a.kBatchStride + key * a.kRowStride + g * d, row, 0, d);
                if (a.qkNorm) {
                    FusedAttention.normalize(row, 0, d);
                }
                int dst = at + j0 * d + c;
                for (int e = 0; e < d; e++) {
                    kp[dst + e * w] = row[e];
                }
                int src = a.vOffset + b * a.vBatchStride + key * a.vRowStride + g * d;
                for (int e0 = 0; e0 < d; e0 += groupWidth(d, e0)) {
                    int ew = groupWidth(d, e0);
                    System.arraycopy(a.v, src + e0, vp, at + e0 * width + j * ew, ew);
                }
            }
        }
    }
}
