package dev.mmca.backend.java;

import java.util.Arrays;

/**
 * Keys and values packed for the Vector API attention micro-kernels ({@link VectorAttention}): tiles of up to
 * {@link VectorAttention#KEY_TILE} visible keys, each tile split into panels that the kernels' inner loops read at a
 * constant stride, from one index with constant offsets (fewer registers and bounds checks than a row stride):
 * <ul>
 *   <li>keys in groups of {@link #groupWidth} keys (4, then 2 and 1 for the tail of a tile): a group of width w
 *       starting at tile column j is stored element-major, {@code k[at + j d + e w + c]} for key {@code j + c};</li>
 *   <li>values in groups of head elements of the same widths over {@code d}: the group of width w starting at
 *       element e0 is stored key-major, {@code v[at + e0 W + j w + c]} for element {@code e0 + c} of tile column
 *       j (W the tile's width).</li>
 * </ul>
 * With qk_norm the keys are packed normalised. A call is packed once, shared by all its work items (the items of
 * one batch element and kv head read the same tiles): {@link #pack} makes tiles of consecutive visible keys,
 * {@link #packInterleaved} tiles of key positions with their text keys first. The group width is the kernels'
 * register block (see {@link VectorAttention}'s kernels); a power of two keeps every panel index a scaled loop index
 * for C2's range-check elimination. The shared copy costs the heap the size of the call's keys and values while the
 * call runs; above {@link #SHARED_HEAP_FRACTION} of the heap, or when the heap cannot give it, the call is not packed
 * whole, and each work item packs the tiles it reads as it reaches them ({@link Tile}).
 */
final class KeyPanels {
    /** Keys (or head elements) per full group: the micro-kernels' register block. */
    static final int GROUP = 4;
    /** The largest share of the heap ({@code Runtime.maxMemory()}) a call's shared packed keys and values may take. */
    static final int SHARED_HEAP_FRACTION = 16;

    /** Per batch element: its visible keys (unmasked, within its key length) as tile columns, tile after tile. */
    final int[][] keys;
    /** Per batch element: tile t holds columns {@code [tileStart[b][t], tileStart[b][t + 1])} of {@link #keys}. */
    final int[][] tileStart;
    /** Per batch element, {@link #packInterleaved} only: the text columns of tile t (the first ones). */
    final int[][] tileText;
    /** The keys per tile (T). */
    final int tile;
    /** Per {@code b * kvHeads + g}: the packed keys, tile t at {@code t T d}; null when the call is packed per item. */
    final float[][] k;
    /** The packed values, laid out as {@link #k}. */
    final float[][] v;

    private KeyPanels(int tile, int[][] keys, int[][] tileStart, int[][] tileText, float[][] k, float[][] v) {
        this.tile = tile;
        this.keys = keys;
        this.tileStart = tileStart;
        this.tileText = tileText;
        this.k = k;
        this.v = v;
    }

    /**
     * The width of the group starting at column {@code j} of a tile (or head element j of d) of {@code width}:
     * {@link #GROUP} while a whole group fits, then the tail (at most 3) as 2 and 1.
     */
    static int groupWidth(int width, int j) {
        if (j < width / GROUP * GROUP) {
            return GROUP;
        }
        return width - j >= 2 ? 2 : 1;
    }

    /** Every visible key of the call in key order, in tiles of {@code tile} keys per batch element and kv head. */
    static KeyPanels pack(AttentionArgs a, int tile) {
        return pack(a, tile, sharedLimitBytes());
    }

    /** {@link #pack(AttentionArgs, int)}, packed whole only when that takes at most {@code sharedLimit} bytes. */
    static KeyPanels pack(AttentionArgs a, int tile, long sharedLimit) {
        int[][] keys = visibleKeys(a);
        int[][] tileStart = new int[a.batch][];
        for (int b = 0; b < a.batch; b++) {
            int n = keys[b].length;
            tileStart[b] = new int[(n + tile - 1) / tile + 1];
            for (int t = 0; t < tileStart[b].length; t++) {
                tileStart[b][t] = Math.min(n, t * tile);
            }
        }
        return packTiles(a, tile, keys, tileStart, null, sharedLimit);
    }

    /** Per batch element: its visible keys (unmasked, within its key length), in key order. */
    static int[][] visibleKeys(AttentionArgs a) {
        int[][] keys = new int[a.batch][];
        for (int b = 0; b < a.batch; b++) {
            int length = a.keyLength(b);
            int[] visible = new int[length];
            int n = 0;
            for (int j = 0; j < length; j++) {
                if (a.keyMask == null || a.keyMask[b * a.keys + j] != 0) {
                    visible[n++] = j;
                }
            }
            keys[b] = n == length ? visible : Arrays.copyOf(visible, n);
        }
        return keys;
    }

    /**
     * Interleaved attention: tile t of a batch element holds its key positions {@code [t T, (t + 1) T)}, text keys
     * first, then image keys, each in key order (padding is no key), so that a row's text group in the tile is a
     * prefix of its columns and its image group one run of the image columns ({@link InterleavedWindows}).
     */
    static KeyPanels packInterleaved(AttentionArgs a, int tile, byte[] modality, int modalityStride) {
        return packInterleaved(a, tile, modality, modalityStride, sharedLimitBytes());
    }

    /** {@link #packInterleaved(AttentionArgs, int, byte[], int)} under a limit, as {@link #pack(AttentionArgs, int, long)}. */
    static KeyPanels packInterleaved(AttentionArgs a, int tile, byte[] modality, int modalityStride,
            long sharedLimit) {
        int[][] keys = new int[a.batch][];
        int[][] tileStart = new int[a.batch][];
        int[][] tileText = new int[a.batch][];
        for (int b = 0; b < a.batch; b++) {
            int length = a.keyLength(b);
            int tiles = (length + tile - 1) / tile;
            int[] columns = new int[length];
            tileStart[b] = new int[tiles + 1];
            tileText[b] = new int[tiles];
            int n = 0;
            for (int t = 0; t < tiles; t++) {
                tileStart[b][t] = n;
                int end = Math.min(length, (t + 1) * tile);
                for (byte kind : new byte[] {InterleavedWindows.TEXT, InterleavedWindows.IMAGE}) {
                    for (int j = t * tile; j < end; j++) {
                        if (modality[b * modalityStride + j] == kind) {
                            columns[n++] = j;
                        }
                    }
                    if (kind == InterleavedWindows.TEXT) {
                        tileText[b][t] = n - tileStart[b][t];
                    }
                }
            }
            tileStart[b][tiles] = n;
            keys[b] = n == length ? columns : Arrays.copyOf(columns, n);
        }
        return packTiles(a, tile, keys, tileStart, tileText, sharedLimit);
    }

    private static long sharedLimitBytes() {
        return Runtime.getRuntime().maxMemory() / SHARED_HEAP_FRACTION;
    }

    /**
     * Packs tile t of every (b, g) at t times the tile size, one task per tile; or, when that copy would take more
     * than {@code sharedLimit} bytes, nothing (the items pack their tiles).
     */
    private static KeyPanels packTiles(AttentionArgs a, int tile, int[][] keys, int[][] tileStart, int[][] tileText,
            long sharedLimit) {
        final int d = a.dimHead;
        long columns = 0;
        for (int[] bKeys : keys) {
            columns += bKeys.length;
        }
        if (2 * columns * a.kvHeads * d * Float.BYTES > sharedLimit) {
            return new KeyPanels(tile, keys, tileStart, tileText, null, null);
        }
        float[][] k = new float[a.batch * a.kvHeads][];
        float[][] v = new float[a.batch * a.kvHeads][];
        int tiles = 0;
        try {
            for (int bg = 0; bg < k.length; bg++) {
                int[] starts = tileStart[bg / a.kvHeads];
                int n = starts.length - 1;
                // tile t at t T d; the last one only as wide as it is (a short call has one short tile)
                int floats = n == 0 ? 0
                        : Math.toIntExact((long) (n - 1) * tile * d + (long) (starts[n] - starts[n - 1]) * d);
                k[bg] = new float[floats];
                v[bg] = new float[floats];
                tiles += n;
            }
        } catch (OutOfMemoryError e) {
            // The heap is nearly full (the plan's arena, the caller's tensors): drop what was allocated and let the
            // items pack their own tiles, a few KiB each, rather than fail a call that fits.
            return new KeyPanels(tile, keys, tileStart, tileText, null, null);
        }
        int[] taskPair = new int[tiles];
        int[] taskTile = new int[tiles];
        for (int bg = 0, w = 0; bg < k.length; bg++) {
            for (int t = 0; t + 1 < tileStart[bg / a.kvHeads].length; t++, w++) {
                taskPair[w] = bg;
                taskTile[w] = t;
            }
        }
        Parallel.forEach(tiles, w -> {
            int bg = taskPair[w];
            int b = bg / a.kvHeads;
            int t = taskTile[w];
            int from = tileStart[b][t];
            packTile(a, b, bg % a.kvHeads, keys[b], from, tileStart[b][t + 1] - from, k[bg], v[bg], t * tile * d,
                    new float[d]);
        });
        return new KeyPanels(tile, keys, tileStart, tileText, k, v);
    }

    /**
     * One work item's view of the tiles of batch element b and kv head g: {@link #load} points {@link #k},
     * {@link #v} and {@link #at} at tile t, in the shared panels, or packed into the view's own tile when the call
     * was not packed whole.
     */
    final class Tile {
        private final AttentionArgs a;
        private final int b;
        private final int g;
        private final float[] ownK;
        private final float[] ownV;
        private final float[] row;
        float[] k;
        float[] v;
        int at;

        Tile(AttentionArgs a, int b, int g) {
            this.a = a;
            this.b = b;
            this.g = g;
            boolean shared = KeyPanels.this.k != null;
            ownK = shared ? null : new float[tile * a.dimHead];
            ownV = shared ? null : new float[tile * a.dimHead];
            row = shared ? null : new float[a.dimHead];
        }

        /** Points the view at tile t (packing it first when the call was not packed whole). */
        void load(int t) {
            if (ownK == null) {
                k = KeyPanels.this.k[b * a.kvHeads + g];
                v = KeyPanels.this.v[b * a.kvHeads + g];
                at = t * tile * a.dimHead;
                return;
            }
            int from = tileStart[b][t];
            packTile(a, b, g, keys[b], from, tileStart[b][t + 1] - from, ownK, ownV, 0, row);
            k = ownK;
            v = ownV;
            at = 0;
        }
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
