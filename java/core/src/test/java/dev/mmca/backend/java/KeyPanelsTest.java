package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.HeadMapping;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The packed layout of {@link KeyPanels}: every key and value element lands where the micro-kernels read it. */
class KeyPanelsTest {
    private static final int TILE = 64;

    @Test
    void groupsAreWholeGroupsThenATailOfTwoAndOne() {
        for (int width = 1; width <= 140; width++) {
            List<Integer> groups = new ArrayList<>();
            for (int j = 0; j < width; j += KeyPanels.groupWidth(width, j)) {
                groups.add(KeyPanels.groupWidth(width, j));
            }
            int whole = width / KeyPanels.GROUP;
            assertEquals(width, groups.stream().mapToInt(Integer::intValue).sum(), "width " + width);
            for (int i = 0; i < groups.size(); i++) {
                if (i < whole) {
                    assertEquals(KeyPanels.GROUP, groups.get(i), "width " + width + ", group " + i);
                } else {
                    int w = groups.get(i);
                    assertTrue(w == 2 || w == 1, "width " + width + ": tail group of " + w);
                    assertTrue(i == whole || w < groups.get(i - 1), "width " + width + ": tail " + groups);
                }
            }
        }
    }

    @Test
    void packPutsEachVisibleKeyOfEveryKvHeadWhereTheKernelsReadIt() {
        for (int d : new int[] {1, 5, 7, 13, 64}) {
            for (boolean qkNorm : new boolean[] {false, true}) {
                AttentionArgs a = args(2, 3, 150, d, qkNorm, 11 + d);
                a.keyMask = new byte[a.batch * a.keys];
                SplittableRandom r = new SplittableRandom(d);
                for (int i = 0; i < a.keyMask.length; i++) {
                    a.keyMask[i] = (byte) (r.nextDouble() < 0.8 ? 1 : 0);
                }
                a.keyLengths = new int[] {150, 97};
                KeyPanels p = KeyPanels.pack(a, TILE);
                for (int b = 0; b < a.batch; b++) {
                    List<Integer> visible = new ArrayList<>();
                    for (int j = 0; j < a.keyLengths[b]; j++) {
                        if (a.keyMask[b * a.keys + j] != 0) {
                            visible.add(j);
                        }
                    }
                    assertArrayEquals(visible.stream().mapToInt(Integer::intValue).toArray(), p.keys[b], "keys of " + b);
                    for (int t = 0; t + 1 < p.tileStart[b].length; t++) {
                        assertEquals(Math.min(visible.size(), t * TILE), p.tileStart[b][t], "tile " + t + " of " + b);
                    }
                    assertEquals(visible.size(), p.tileStart[b][p.tileStart[b].length - 1], "end of " + b);
                    assertTilesHoldTheirKeys(a, p, b, "d " + d + ", qk_norm " + qkNorm);
                }
            }
        }
    }

    @Test
    void interleavedTilesArePositionBlocksWithTheirTextKeysFirst() {
        AttentionArgs a = args(2, 2, 200, 9, false, 5);
        byte[] modality = new byte[a.batch * a.keys];
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < modality.length; i++) {
            modality[i] = (byte) r.nextInt(3);  // padding, text, image
        }
        a.keyLengths = new int[] {200, 131};
        KeyPanels p = KeyPanels.packInterleaved(a, TILE, modality, a.keys);
        for (int b = 0; b < a.batch; b++) {
            int tiles = (a.keyLengths[b] + TILE - 1) / TILE;
            assertEquals(tiles + 1, p.tileStart[b].length, "tiles of " + b);
            for (int t = 0; t < tiles; t++) {
                List<Integer> expected = new ArrayList<>();
                int end = Math.min(a.keyLengths[b], (t + 1) * TILE);
                for (byte kind : new byte[] {1, 2}) {
                    for (int j = t * TILE; j < end; j++) {
                        if (modality[b * a.keys + j] == kind) {
                            expected.add(j);
                        }
                    }
                    if (kind == 1) {
                        assertEquals(expected.size(), p.tileText[b][t], "text keys of tile " + t + " of " + b);
                    }
                }
                int from = p.tileStart[b][t];
                List<Integer> got = new ArrayList<>();
                for (int c = from; c < p.tileStart[b][t + 1]; c++) {
                    got.add(p.keys[b][c]);
                }
                assertEquals(expected, got, "tile " + t + " of " + b);
            }
            assertTilesHoldTheirKeys(a, p, b, "interleaved");
        }
    }

    @Test
    void aCallTooLargeToPackWholeGivesEachItemTheSameTiles() {
        AttentionArgs a = args(2, 3, 150, 13, true, 21);
        a.keyLengths = new int[] {150, 70};
        byte[] modality = new byte[a.batch * a.keys];
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < modality.length; i++) {
            modality[i] = (byte) r.nextInt(3);
        }
        KeyPanels[][] pairs = {
            {KeyPanels.pack(a, TILE), KeyPanels.pack(a, TILE, 0)},
            {KeyPanels.packInterleaved(a, TILE, modality, a.keys), KeyPanels.packInterleaved(a, TILE, modality, a.keys, 0)},
        };
        for (KeyPanels[] pair : pairs) {
            KeyPanels shared = pair[0];
            KeyPanels perItem = pair[1];
            assertTrue(shared.k != null && perItem.k == null, "one packed whole, one per item");
            for (int b = 0; b < a.batch; b++) {
                assertArrayEquals(shared.keys[b], perItem.keys[b]);
                assertArrayEquals(shared.tileStart[b], perItem.tileStart[b]);
                for (int g = 0; g < a.kvHeads; g++) {
                    KeyPanels.Tile one = shared.new Tile(a, b, g);
                    KeyPanels.Tile other = perItem.new Tile(a, b, g);
                    for (int t = 0; t + 1 < shared.tileStart[b].length; t++) {
                        one.load(t);
                        other.load(t);
                        int floats = (shared.tileStart[b][t + 1] - shared.tileStart[b][t]) * a.dimHead;
                        assertArrayEquals(Arrays.copyOfRange(one.k, one.at, one.at + floats),
                                Arrays.copyOfRange(other.k, other.at, other.at + floats), "keys of tile " + t);
                        assertArrayEquals(Arrays.copyOfRange(one.v, one.at, one.at + floats),
                                Arrays.copyOfRange(other.v, other.at, other.at + floats), "values of tile " + t);
                    }
                }
            }
        }
    }

    /**
     * Key j of a tile, in the key group of width w starting at column j0: element e at {@code j0 d + e w + (j - j0)};
     * its value's element e, in the element group of width ew starting at e0: {@code e0 W + j ew + (e - e0)}.
     */
    private static void assertTilesHoldTheirKeys(AttentionArgs a, KeyPanels p, int b, String where) {
        int d = a.dimHead;
        for (int g = 0; g < a.kvHeads; g++) {
            float[] kp = p.k[b * a.kvHeads + g];
            float[] vp = p.v[b * a.kvHeads + g];
            for (int t = 0; t + 1 < p.tileStart[b].length; t++) {
                int from = p.tileStart[b][t];
                int width = p.tileStart[b][t + 1] - from;
                int at = t * TILE * d;
                for (int j0 = 0; j0 < width; j0 += KeyPanels.groupWidth(width, j0)) {
                    int w = KeyPanels.groupWidth(width, j0);
                    for (int j = j0; j < j0 + w; j++) {
                        int key = p.keys[b][from + j];
                        float[] k = new float[d];
                        System.arraycopy(a.k, a.kOffset + b * a.kBatchStride + key * a.kRowStride + g * d, k, 0, d);
                        if (a.qkNorm) {
                            FusedAttention.normalize(k, 0, d);
                        }
                        for (int e = 0; e < d; e++) {
                            assertEquals(k[e], kp[at + j0 * d + e * w + (j - j0)], where + ": key " + key + "[" + e
                                    + "], kv head " + g + " of " + b);
                        }
                        int v = a.vOffset + b * a.vBatchStride + key * a.vRowStride + g * d;
                        for (int e0 = 0; e0 < d; e0 += KeyPanels.groupWidth(d, e0)) {
                            int ew = KeyPanels.groupWidth(d, e0);
                            for (int e = e0; e < e0 + ew; e++) {
                                assertEquals(a.v[v + e], vp[at + e0 * width + j * ew + (e - e0)], where + ": value "
                                        + key + "[" + e + "], kv head " + g + " of " + b);
                            }
                        }
                    }
                }
            }
        }
    }

    /** Keys and values of {@code [batch, keys, kvHeads * d]} inside wider rows, seeded. */
    private static AttentionArgs args(int batch, int kvHeads, int keys, int d, boolean qkNorm, long seed) {
        AttentionArgs a = new AttentionArgs();
        a.batch = batch;
        a.heads = kvHeads;
        a.kvHeads = kvHeads;
        a.keys = keys;
        a.queries = 1;
        a.dimHead = d;
        a.qkNorm = qkNorm;
        a.headMapping = HeadMapping.GROUPED;
        int row = kvHeads * d + 3;  // a wider row, as in a packed projection
        SplittableRandom r = new SplittableRandom(seed);
        a.k = new float[batch * keys * row + 2];
        a.v = new float[batch * keys * row + 2];
        for (int i = 0; i < a.k.length; i++) {
            a.k[i] = (float) r.nextGaussian();
            a.v[i] = (float) r.nextGaussian();
        }
        a.kOffset = 2;
        a.vOffset = 1;
        a.kRowStride = a.vRowStride = row;
        a.kBatchStride = a.vBatchStride = keys * row;
        return a;
    }
}
