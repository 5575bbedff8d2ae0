package dev.mmca.embed;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Groups records into batches that waste little padding: records are taken in windows of
 * {@code window} consecutive records, each window is ordered so that neighbours have similar
 * lengths, and the ordered run is cut greedily so that a batch's padded size
 * {@code batch * (max Nv + max Nt)} stays within {@code batchTokens} (a record longer than that
 * gets a batch of its own) and at least {@link #MIN_EFFICIENCY} of it is real tokens.
 *
 * <p>Padding is wasted in two lengths at once, so one sort is not enough when both vary: the
 * window is sorted by visual length, split into runs of about {@code sqrt(window * batch)}
 * records (narrow in visual length), and each run is sorted by text length, so a batch drawn from
 * a run is narrow in both. When one length is constant this reduces to sorting by the other.
 *
 * <p>The plan depends only on the lengths given (one shard's), so a shard gets the same batches
 * whichever other shards are in the run.
 */
final class BatchPlanner {
    /**
     * A record that would leave its batch with less than this share of real tokens starts a new
     * batch instead: padded tokens cost as much compute as real ones, and a smaller batch costs
     * little by comparison.
     */
    static final double MIN_EFFICIENCY = 0.8;

    private BatchPlanner() {
    }

    /** Batches as lists of record positions (indices into the given length arrays). */
    static List<int[]> plan(int[] visualLengths, int[] textLengths, int window, int batchTokens) {
        if (visualLengths.length != textLengths.length) {
            throw new IllegalArgumentException("textLengths: expected " + visualLengths.length + " lengths, got "
                    + textLengths.length);
        }
        if (window < 1) {
            throw new IllegalArgumentException("window: expected at least 1 record, got " + window);
        }
        if (batchTokens < 1) {
            throw new IllegalArgumentException("batchTokens: expected at least 1 token, got " + batchTokens);
        }
        List<int[]> batches = new ArrayList<>();
        int n = visualLengths.length;
        for (int start = 0; start < n; start += window) {
            int end = Math.min(n, start + window);
            Integer[] order = sortedWindow(visualLengths, textLengths, start, end, batchTokens);
            List<Integer> current = new ArrayList<>();
            int maxV = 0;
            int maxT = 0;
            long real = 0;
            for (int idx : order) {
                int v = Math.max(maxV, padded(visualLengths[idx]));
                int t = Math.max(maxT, padded(textLengths[idx]));
                long paddedSize = (long) (current.size() + 1) * (v + t);
                long realSize = real + padded(visualLengths[idx]) + padded(textLengths[idx]);
                if (!current.isEmpty() && (paddedSize > batchTokens || realSize < MIN_EFFICIENCY * paddedSize)) {
                    batches.add(toArray(current));
                    current.clear();
                    v = padded(visualLengths[idx]);
                    t = padded(textLengths[idx]);
                    real = 0;
                }
                real += padded(visualLengths[idx]) + padded(textLengths[idx]);
                current.add(idx);
                maxV = v;
                maxT = t;
            }
            if (!current.isEmpty()) {
                batches.add(toArray(current));
            }
        }
        return batches;
    }

    /** Positions {@code [start, end)} in batching order (see the class comment). */
    private static Integer[] sortedWindow(int[] vl, int[] tl, int start, int end, int batchTokens) {
        Integer[] order = new Integer[end - start];
        long padded = 0;
        for (int i = 0; i < order.length; i++) {
            order[i] = start + i;
            padded += padded(vl[start + i]) + padded(tl[start + i]);
        }
        Arrays.sort(order, Comparator.<Integer>comparingInt(i -> vl[i]).thenComparingInt(i -> tl[i])
                .thenComparingInt(i -> i));
        double perBatch = Math.max(1.0, batchTokens / ((double) padded / order.length));
        int run = (int) Math.max(1, Math.round(Math.sqrt(order.length * perBatch)));
        Comparator<Integer> byText = Comparator.<Integer>comparingInt(i -> tl[i]).thenComparingInt(i -> vl[i])
                .thenComparingInt(i -> i);
        for (int from = 0; from < order.length; from += run) {
            Arrays.sort(order, from, Math.min(order.length, from + run), byText);
        }
        return order;
    }

    /** A batch needs at least one token per modality; an empty record is one masked-out token. */
    static int padded(int length) {
        return Math.max(1, length);
    }

    private static int[] toArray(List<Integer> list) {
        int[] a = new int[list.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = list.get(i);
        }
        return a;
    }
}
