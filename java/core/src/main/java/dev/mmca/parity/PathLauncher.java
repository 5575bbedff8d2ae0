package dev.mmca.parity;

import java.util.List;

/**
 * Runs scenarios on a kernel path in a fresh JVM, for paths and thread counts that are fixed when a JVM starts.
 * The {@code mmca parity} command provides one that starts itself again; without a launcher such runs are
 * reported as not checked, with the reason.
 */
public interface PathLauncher {
    /**
     * Runs {@code scenarios} (by name) on {@code path} with {@code threads} threads (0: default) in a JVM started
     * with {@code launch}; returns the outputs by {@code scenario.output} key.
     *
     * @throws Exception when the JVM cannot start, fails, or does not have the path in force
     */
    PathRun run(KernelPath path, int threads, Launch launch, List<String> scenarios) throws Exception;
}
