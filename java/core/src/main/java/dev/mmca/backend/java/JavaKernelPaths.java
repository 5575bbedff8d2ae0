package dev.mmca.backend.java;

import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import dev.mmca.parity.Precision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The kernel paths of the {@code java} backend: one per kernel set, {@code vector} (the Vector API) and
 * {@code scalar}, as {@code mmca info} names them, both float32, the set this JVM runs first. The set is chosen
 * once, when the JVM starts ({@value KernelSelection#PROPERTY}, {@link KernelSelection}), and so is the size of
 * the thread pool ({@value Parallel#THREADS_PROPERTY}): the other set, and another thread count, run in a fresh
 * JVM, which each path's {@link Launch} starts with the set asked for by name ({@code -Dmmca.java.kernels=vector}
 * and {@value KernelSelection#MODULE_FLAG}, or {@code -Dmmca.java.kernels=scalar}). A JVM runs a path only when
 * it has that set in force, so a fresh JVM that came up with the other one refuses it. The vector set is listed
 * as unavailable, with the reason, when no fresh JVM here could run it (no {@value KernelSelection#MODULE} in
 * this Java runtime).
 */
public final class JavaKernelPaths implements KernelPaths {
    /** The kernel sets, by {@link JavaKernels#name()}. */
    static final String VECTOR = "vector";
    static final String SCALAR = "scalar";

    /** Used by {@link java.util.ServiceLoader}. */
    public JavaKernelPaths() {
    }

    @Override
    public String backend() {
        return "java";
    }

    @Override
    public List<KernelPath> paths(Backend backend) {
        KernelSelection.Choice here = KernelSelection.current();
        if (!here.ok()) {
            // the backend cannot run at all; KernelPaths.of says so before asking
            return List.of(KernelPath.builder(backend, "*").availability(Availability.unavailable(here.reason))
                    .build());
        }
        String inForce = here.kernels.name();
        return paths(backend, inForce, inForce.equals(VECTOR) ? null : KernelSelection.vectorObstacleInFreshJvm());
    }

    /**
     * The two paths when this JVM runs the set {@code inForce}; {@code vectorObstacle}: null when a fresh JVM can
     * run the vector set, else why not.
     */
    static List<KernelPath> paths(Backend backend, String inForce, String vectorObstacle) {
        if (!inForce.equals(VECTOR) && !inForce.equals(SCALAR)) {
            throw new IllegalArgumentException("inForce: expected " + VECTOR + " or " + SCALAR + ", got '" + inForce
                    + "'");
        }
        List<KernelPath> paths = new ArrayList<>();
        for (String set : inForce.equals(VECTOR) ? List.of(VECTOR, SCALAR) : List.of(SCALAR, VECTOR)) {
            KernelPath.Builder b = KernelPath.builder(backend, set).precision(Precision.FP32)
                    .switcher(new SetSwitch(set, inForce)).threads(Parallel::threads)
                    .launch(threads -> launch(set, threads));
            if (set.equals(VECTOR) && !set.equals(inForce) && vectorObstacle != null) {
                b.availability(Availability.unavailable(vectorObstacle));
            }
            paths.add(b.build());
        }
        return paths;
    }

    /** A fresh JVM on kernel set {@code set} with {@code threads} threads (0: its default). */
    static Launch launch(String set, int threads) {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put(KernelSelection.PROPERTY, set);
        if (threads > 0) {
            properties.put(Parallel.THREADS_PROPERTY, Integer.toString(threads));
        }
        List<String> options = set.equals(VECTOR) ? List.of("--add-modules", KernelSelection.MODULE) : List.of();
        return new Launch(options, properties, Map.of());
    }

    /**
     * Runs a set in this JVM when it is the one in force, at the pool's size; nothing to switch, since both are
     * fixed when the JVM starts.
     */
    private static final class SetSwitch implements KernelPath.Switch {
        private final String set;
        private final String inForce;

        SetSwitch(String set, String inForce) {
            this.set = set;
            this.inForce = inForce;
        }

        @Override
        public String obstacle(int threads) {
            if (!set.equals(inForce)) {
                return "the java kernel set is fixed when the JVM starts (-D" + KernelSelection.PROPERTY + "); this"
                        + " JVM runs the " + inForce + " kernels, so the " + set + " kernels need a fresh JVM";
            }
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
    }
}
