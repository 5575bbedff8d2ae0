package dev.mmca.backend.java;

/**
 * The groups of the query rows of one work item of interleaved attention (SPEC "Interleaved MMCA"), as windows of
 * key positions, and the key tiles they are streamed through; shared by both kernel sets
 * ({@link InterleavedAttention}, {@code VectorInterleavedAttention}). The groups of the query at key position
 * {@code p} (keys past the element's length and padding keys are never seen):
 * <ul>
 *   <li>text query: T = text keys {@code j <= p}, I = image keys {@code j <= p};</li>
 *   <li>image query, rule self: T = text keys {@code j <= p}, I = {@code {p}} (its part is {@code v_p}, added
 *   without a score: {@link #self});</li>
 *   <li>image query, rule block: T empty, I = the image keys with no text key between them and {@code p}.</li>
 * </ul>
 * So each group is the keys of one modality inside one window ({@code [0, tHi]} for T, {@code [iLo, iHi]} for I).
 */
final class InterleavedWindows {
    static final byte TEXT = 1;
    static final byte IMAGE = 2;

    private final byte[] mod;
    private final int modBase;
    /** Per query row {@code r} (query {@code i0 + r}): whether it is a real token (else its output is zero). */
    final boolean[] active;
    /** Last key position of the row's text group (-1: empty). */
    final int[] tHi;
    /** Key positions [iLo, iHi] of the row's image group (iHi < iLo: empty). */
    final int[] iLo;
    final int[] iHi;
    /** Rule self: an image query's own position, whose value is its image group's part; else -1. */
    final int[] self;
    /**
     * Whether the row's text group, and its scored image group (not rule self's {@code {p}}), hold at least one key:
     * such a group whose max stays -inf had every score overflow downwards.
     */
    final boolean[] seesText;
    final boolean[] seesImage;
    /** Keys below this and from this on are in no active row's window. */
    final int keyFrom;
    final int keyEnd;
    /** The union of the active rows' windows: the last text horizon (-1: none), the image positions [uLo, uHi]. */
    final int tMax;
    final int uLo;
    final int uHi;

    /**
     * The windows of queries {@code [i0, i0 + rows)} of batch element {@code b} of {@code a}, the key modality
     * {@code mod[b * modalityStride + j]}, under rule block ({@code block}) or self.
     */
    InterleavedWindows(AttentionArgs a, byte[] mod, int modalityStride, boolean block, int b, int i0, int rows) {
        this.mod = mod;
        this.modBase = b * modalityStride;
        int keyLength = a.keyLength(b);
        active = new boolean[rows];
        tHi = new int[rows];
        iLo = new int[rows];
        iHi = new int[rows];
        self = new int[rows];
        seesText = new boolean[rows];
        seesImage = new boolean[rows];
        // the element's first text and first image key: a group [0, x] holds a key of its modality iff x >= it
        int firstText = keyLength;
        int firstImage = keyLength;
        for (int j = 0; j < keyLength && (firstText == keyLength || firstImage == keyLength); j++) {
            if (mod[modBase + j] == TEXT) {
                firstText = Math.min(firstText, j);
            } else if (mod[modBase + j] == IMAGE) {
                firstImage = Math.min(firstImage, j);
            }
        }
        int from = Integer.MAX_VALUE;
        int end = 0;
        int textMax = -1;
        int unionLo = Integer.MAX_VALUE;
        int unionHi = -1;
        int runLo = 0;
        int runHi = -1;
        for (int r = 0; r < rows; r++) {
            int i = i0 + r;
            long pos = a.queryPositions != null ? a.queryPositions[b * a.queryPositionsBatchStride + i]
                    : (long) i + a.keys - a.queries;
            byte kind = pos >= 0 && pos < keyLength ? mod[modBase + (int) pos] : 0;
            int p = (int) pos;
            int th = -1;
            int lo = 0;
            int hi = -1;
            int own = -1;
            if (kind == TEXT) {
                th = p;
                hi = p;
            } else if (kind == IMAGE && !block) {
                th = p;
                own = p;
            } else if (kind == IMAGE) {
                // the run of image keys holding p, up to the text keys on either side (padding is no key);
                // consecutive rows of one image share it
                if (runHi >= p && runLo <= p) {
                    lo = runLo;
                    hi = runHi;
                } else {
                    lo = p;
                    while (lo > 0 && mod[modBase + lo - 1] != TEXT) {
                        lo--;
                    }
                    hi = p;
                    while (hi + 1 < keyLength && mod[modBase + hi + 1] != TEXT) {
                        hi++;
                    }
                    runLo = lo;
                    runHi = hi;
                }
            }
            active[r] = kind != 0;
            tHi[r] = th;
            iLo[r] = lo;
            iHi[r] = hi;
            self[r] = own;
            // T is the text keys of [0, th]; I is the image keys of [0, p] (text query) or p's own run (rule block)
            seesText[r] = th >= firstText;
            seesImage[r] = kind == TEXT ? p >= firstImage : kind == IMAGE && block;
            if (!active[r]) {
                continue;
            }
            from = Math.min(from, th >= 0 ? 0 : lo);
            end = Math.max(end, Math.max(th, hi) + 1);
            textMax = Math.max(textMax, th);
            if (lo <= hi) {
                unionLo = Math.min(unionLo, lo);
                unionHi = Math.max(unionHi, hi);
            }
        }
        keyFrom = end == 0 ? 0 : from;
        keyEnd = end;
        tMax = textMax;
        uLo = unionLo;
        uHi = unionHi;
    }

    /**
     * Rule self: adds row r's own value (kv head g of batch element b), its image group's part, to
     * {@code a.o[dst, dst + d)}; for other rows nothing.
     */
    void addOwnValue(AttentionArgs a, int b, int g, int r, int dst) {
        int v = ownValue(a, b, g, r);
        if (v < 0) {
            return;
        }
        int d = a.dimHead;
        for (int e = 0; e < d; e++) {
            a.o[dst + e] += a.v[v + e];
        }
    }

    /** Where in {@code a.v} row r's own value (kv head g) starts under rule self, or -1 when it has none. */
    int ownValue(AttentionArgs a, int b, int g, int r) {
        return self[r] < 0 ? -1 : a.vOffset + b * a.vBatchStride + self[r] * a.vRowStride + g * a.dimHead;
    }

    /** Whether rows r and r - 1 have the same windows (both active). */
    boolean sameAsPrevious(int r) {
        return r > 0 && active[r] && active[r - 1] && tHi[r] == tHi[r - 1] && iLo[r] == iLo[r - 1]
                && iHi[r] == iHi[r - 1];
    }

    /**
     * The key tiles of {@code [keyFrom, keyEnd)}, one after the other ({@link #advance}): each holds the next
     * {@code capacity} real keys (padding costs nothing), its text keys first, then its image keys, each in key
     * order; or tiles laid out so elsewhere ({@link #load}, {@link KeyPanels#packInterleaved}). A row's text group
     * is then the first columns up to its horizon and its image group one run of the image columns, so no column
     * outside a group need be scored.
     */
    final class KeyTiles {
        /** The key of each column of the current tile. */
        final int[] keys;
        private final int[] image;
        private int next = keyFrom;
        /** Text columns [0, text), image columns [text, width). */
        int text;
        int width;
        /**
         * The columns some active row needs: text columns [0, textNeeded) (up to the last text horizon), image
         * columns [imageNeededFrom, imageNeededTo) (inside the union of the image windows). Under rule self an image
         * query's text window covers every key before it, but only its text keys are scored.
         */
        int textNeeded;
        int imageNeededFrom;
        int imageNeededTo;

        KeyTiles(int capacity) {
            keys = new int[capacity];
            image = new int[capacity];
        }

        /** Moves to the next tile; false when no real key is left. */
        boolean advance() {
            int nt = 0;
            int ni = 0;
            for (; next < keyEnd && nt + ni < keys.length; next++) {
                byte t = mod[modBase + next];
                if (t == TEXT) {
                    keys[nt++] = next;
                } else if (t == IMAGE) {
                    image[ni++] = next;
                }
            }
            if (nt + ni == 0) {
                return false;
            }
            System.arraycopy(image, 0, keys, nt, ni);
            describe(nt, nt + ni);
            return true;
        }

        /**
         * Makes {@code columns[from, from + width)} the current tile: its keys, the first {@code text} of them text
         * keys, then image keys, each in key order.
         */
        void load(int[] columns, int from, int text, int width) {
            System.arraycopy(columns, from, keys, 0, width);
            describe(text, width);
        }

        private void describe(int textColumns, int columns) {
            text = textColumns;
            width = columns;
            textNeeded = upTo(0, text, tMax);
            boolean images = uLo <= uHi;
            imageNeededFrom = images ? upTo(text, width, uLo - 1) : text;
            imageNeededTo = images ? upTo(text, width, uHi) : text;
        }

        /** Whether some active row needs a column of this tile (a tile no row needs is not even packed). */
        boolean needed() {
            return textNeeded > 0 || imageNeededFrom < imageNeededTo;
        }

        /** Row r's text group: columns [0, textTo(r)). */
        int textTo(int r) {
            return upTo(0, text, tHi[r]);
        }

        /** Row r's image group: columns [imageFrom(r), imageTo(r)). */
        int imageFrom(int r) {
            return upTo(text, width, iLo[r] - 1);
        }

        int imageTo(int r) {
            return upTo(text, width, iHi[r]);
        }

        /** The first column in [from, to) whose key is past {@code last} (to if none); the keys are sorted there. */
        private int upTo(int from, int to, int last) {
            int lo = from;
            int hi = to;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (keys[mid] <= last) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }
    }
}
