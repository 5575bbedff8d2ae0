package dev.mmca.backend.java;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The Java backend's one thread pool. Work is split over independent output blocks only, so each
 * output element is computed by one thread in a fixed order: results do not depend on the number
 * of threads. Size: system property {@value #THREADS_PROPERTY}, else the available processors.
 */
final class Parallel {
    static final String THREADS_PROPERTY = "mmca.java.threads";

    private static final ForkJoinPool POOL = createPool();
    /** A pool that replaces {@link #POOL} for the calling thread, see {@link #withPool}. */
    private static final ThreadLocal<ForkJoinPool> OVERRIDE = new ThreadLocal<>();

    private Parallel() {
    }

    private static ForkJoinPool createPool() {
        int threads = Runtime.getRuntime().availableProcessors();
        String p = System.getProperty(THREADS_PROPERTY);
        if (p != null && !p.isBlank()) {
            try {
                threads = Integer.parseInt(p.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(THREADS_PROPERTY + ": expected a positive integer, got '" + p + "'");
            }
            if (threads <= 0) {
                throw new IllegalArgumentException(THREADS_PROPERTY + ": expected a positive integer, got " + threads);
            }
        }
        ForkJoinPool.ForkJoinWorkerThreadFactory factory = pool -> {
            ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
            t.setName("mmca-java-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        };
        return new ForkJoinPool(threads, factory, null, false);
    }

    static int threads() {
        return POOL.getParallelism();
    }

    /**
     * Runs {@code body} with the calling thread's {@link #forEach} calls spread over {@code pool} instead of the
     * backend's pool: how tests check that results do not depend on the number of threads.
     */
    static void withPool(ForkJoinPool pool, Runnable body) {
        ForkJoinPool previous = OVERRIDE.get();
        OVERRIDE.set(pool);
        try {
            body.run();
        } finally {
            OVERRIDE.set(previous);
        }
    }

    /** Runs {@code body(i)} for {@code i in [0, n)}, in parallel when worthwhile. */
    static void forEach(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        ForkJoinPool override = OVERRIDE.get();
        ForkJoinPool pool = override != null ? override : POOL;
        if (n == 1 || pool.getParallelism() == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Range task = new Range(0, n, body);
        if (ForkJoinPool.commonPool() != pool && Thread.currentThread() instanceof ForkJoinWorkerThread
                && ((ForkJoinWorkerThread) Thread.currentThread()).getPool() == pool) {
            task.invoke();
        } else {
            pool.invoke(task);
        }
    }

    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final int from;
        private final int to;
        private final transient IntConsumer body;

        Range(int from, int to, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from == 1) {
                body.accept(from);
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, body), new Range(mid, to, body));
        }
    }
}
