package dev.mmca.io;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Checks a size declared by a file against what the JVM heap can still provide, before the arrays are
 * allocated, so that a file declaring gigabytes fails with a message naming it instead of an
 * {@link OutOfMemoryError}. The estimate is the maximum heap ({@code -Xmx}) less what is in use;
 * when that looks too small a garbage collection is requested once and the estimate taken again. An
 * allocation that still fails (the heap is fragmented, another thread allocated first) is reported the
 * same way.
 */
public final class HeapCheck {
    private HeapCheck() {
    }

    /**
     * Throws unless about {@code bytes} more can be allocated.
     *
     * @param file the file the data comes from (named in the message; may be null)
     * @param what the data, e.g. {@code tensor 'visual' F32 [2, 3, 4]}
     * @throws HeapLimitException when the heap cannot hold {@code bytes} more
     */
    public static void require(Path file, String what, long bytes) {
        if (bytes <= 0) {
            return;
        }
        long available = available();
        if (bytes > available) {
            System.gc();
            available = available();
        }
        if (bytes > available) {
            throw tooLarge(file, what, bytes, available, null);
        }
    }

    /** A checked {@code new float[n]}. */
    public static float[] floats(Path file, String what, int n) {
        require(file, what, (long) n * Float.BYTES);
        try {
            return new float[n];
        } catch (OutOfMemoryError e) {
            throw tooLarge(file, what, (long) n * Float.BYTES, available(), e);
        }
    }

    /** A checked {@code new double[n]}. */
    public static double[] doubles(Path file, String what, int n) {
        require(file, what, (long) n * Double.BYTES);
        try {
            return new double[n];
        } catch (OutOfMemoryError e) {
            throw tooLarge(file, what, (long) n * Double.BYTES, available(), e);
        }
    }

    /** A checked {@code new long[n]}. */
    public static long[] longs(Path file, String what, int n) {
        require(file, what, (long) n * Long.BYTES);
        try {
            return new long[n];
        } catch (OutOfMemoryError e) {
            throw tooLarge(file, what, (long) n * Long.BYTES, available(), e);
        }
    }

    /** A checked {@code new byte[n]}. */
    public static byte[] bytes(Path file, String what, int n) {
        require(file, what, n);
        try {
            return new byte[n];
        } catch (OutOfMemoryError e) {
            throw tooLarge(file, what, n, available(), e);
        }
    }

    /** Bytes the heap can still provide: the maximum less what is in use (garbage included). */
    public static long available() {
        Runtime rt = Runtime.getRuntime();
        long max = rt.maxMemory();
        if (max == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, max - (rt.totalMemory() - rt.freeMemory()));
    }

    private static HeapLimitException tooLarge(Path file, String what, long bytes, long available, Throwable cause) {
        long max = Runtime.getRuntime().maxMemory();
        String message = (file == null ? "" : file + ": ") + what + " needs " + size(bytes) + " of Java heap, but"
                + " only about " + size(available) + " of the " + size(max) + " maximum (-Xmx) is free; run the JVM"
                + " with a larger -Xmx (the mmca launcher passes MMCA_JAVA_OPTS to it) or use smaller inputs";
        return new HeapLimitException(file, message, bytes, available, cause);
    }

    /** Bytes with a binary unit, e.g. {@code 8.0 GiB (8589934336 bytes)}. */
    static String size(long bytes) {
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s (%d bytes)", v, units[u], bytes);
    }
}
