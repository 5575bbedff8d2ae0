package dev.mmca.backend.java;

import dev.mmca.backend.Backend;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import dev.mmca.parity.Precision;
import java.util.List;
import java.util.Map;

/**
 * The kernel paths of the {@code java} backend: the kernels this JVM runs, in float32. Its thread pool is sized
 * once, when it starts ({@value Parallel#THREADS_PROPERTY}), so another thread count needs a fresh JVM, which
 * {@link #paths} describes with a {@link Launch}. Kernel sets chosen at start-up are described the same way: a
 * path per set, each with the launch that forces it and a switch that runs it here when it is already in force.
 */
public final class JavaKernelPaths implements KernelPaths {
    /** Used by {@link java.util.ServiceLoader}. */
    public JavaKernelPaths() {
    }

    @Override
    public String backend() {
        return "java";
    }

    @Override
    public List<KernelPath> paths(Backend backend) {
        KernelPath.Switch pool = new KernelPath.Switch() {
            @Override
            public String obstacle(int threads) {
                int here = Parallel.threads();
                if (threads == 0 || threads == here) {
                    return null;
                }
                return "the java pool of this JVM has " + here + " threads, fixed when it starts (-D"
                        + Parallel.THREADS_PROPERTY + "); " + threads + " threads need a fresh JVM";
            }

            @Override
            public KernelPath.Selection select(int threads) {
                return () -> { };
            }
        };
        return List.of(KernelPath.builder(backend, "default").precision(Precision.FP32).switcher(pool)
                .threads(Parallel::threads)
                .launch(threads -> threads > 0 ? Launch.ofProperties(Map.of(Parallel.THREADS_PROPERTY,
                        Integer.toString(threads))) : Launch.ofProperties(Map.of()))
                .build());
    }
}
