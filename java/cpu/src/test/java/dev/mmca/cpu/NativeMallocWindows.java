package dev.mmca.cpu;

/**
 * Native memory growth over repeated windows of work, for leak tests. The library's count
 * ({@code mmca_cpu_malloc_in_use}) is process-wide, so it also moves with the JVM's own native churn
 * (compiler arenas: some MB now and then, more when a loaded machine delays compilation). That churn does not
 * recur in every window, a leak does, so tests judge the quietest window; a leak would hide only behind the
 * JVM freeing as much in that same window.
 */
final class NativeMallocWindows {
    /** Bytes of native malloc growth of each window (3 windows of {@code iterations} calls of {@code work}). */
    final long[] growth = new long[3];
    /** The smallest of {@link #growth}. */
    final long quietest;

    NativeMallocWindows(int iterations, Runnable work) {
        long min = Long.MAX_VALUE;
        for (int w = 0; w < growth.length; w++) {
            long before = MmcaCpuNative.mmca_cpu_malloc_in_use();
            for (int i = 0; i < iterations; i++) {
                work.run();
            }
            growth[w] = MmcaCpuNative.mmca_cpu_malloc_in_use() - before;
            min = Math.min(min, growth[w]);
        }
        quietest = min;
    }

    @Override
    public String toString() {
        return java.util.Arrays.toString(growth) + " bytes";
    }
}
