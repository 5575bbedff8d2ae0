package dev.mmca.parity;

import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import java.util.Objects;
import java.util.function.IntFunction;
import java.util.function.IntSupplier;

/**
 * One way a backend computes: a backend plus the kernel set it runs ({@code cpu/avx2}, {@code cuda/bf16},
 * {@code java/vector}), the {@link Precision} it computes in, whether this host can run it, and how to force it.
 * Backends describe their paths with {@link KernelPaths}.
 *
 * <p>Forcing a path: a path that this JVM can switch to has a {@link Switch} ({@link #select} puts it in force
 * and its handle restores what was in force before); a path chosen once at start-up gives a {@link Launch}
 * for a fresh JVM instead. Thread counts work the same way: a backend with a thread count (the {@code java} and
 * {@code cpu} backends) promises bit-identical results for every count, which a parity check verifies by running
 * the path at several.
 */
public final class KernelPath {
    /** Switches this JVM to a path. */
    public interface Switch {
        /**
         * Null when this JVM can run the path with {@code threads} threads (0: the threads this JVM has), else why
         * not, e.g. "the pool has 4 threads, fixed at start-up by -Dmmca.java.threads".
         */
        String obstacle(int threads);

        /** Puts the path in force with {@code threads} threads (0: as they are); called only when no obstacle. */
        Selection select(int threads);
    }

    /** A path in force; closing it restores what was in force before. Not for concurrent use with computations. */
    @FunctionalInterface
    public interface Selection extends AutoCloseable {
        @Override
        void close();
    }

    private static final Switch AS_IS = new Switch() {
        @Override
        public String obstacle(int threads) {
            return threads == 0 ? null : "this backend has no thread count to set";
        }

        @Override
        public Selection select(int threads) {
            return () -> { };
        }
    };

    private final Backend backend;
    private final String name;
    private final Precision precision;
    private final Availability availability;
    private final Switch switcher;
    private final IntSupplier threadsHere;
    private final IntFunction<Launch> launch;

    private KernelPath(Builder b) {
        this.backend = b.backend;
        this.name = b.name;
        this.precision = b.precision;
        this.availability = b.availability;
        this.switcher = b.switcher;
        this.threadsHere = b.threadsHere;
        this.launch = b.launch;
    }

    /** A builder for a path called {@code name} of {@code backend}. */
    public static Builder builder(Backend backend, String name) {
        return new Builder(backend, name);
    }

    /**
     * The one path of a backend that describes no paths: whatever it computes in this JVM, judged as float32,
     * without a thread count.
     */
    public static KernelPath asIs(Backend backend) {
        return builder(backend, "default").build();
    }

    /** The backend that computes this path (already on the right device or precision). */
    public Backend backend() {
        return backend;
    }

    /** The backend's name, e.g. {@code cpu}. */
    public String backendName() {
        return backend.name();
    }

    /** The path's name within its backend, e.g. {@code avx2}. */
    public String name() {
        return name;
    }

    /** {@code backend/name}, e.g. {@code cpu/avx2}: how reports and test names call it. */
    public String id() {
        return backend + "/" + name;
    }

    public Precision precision() {
        return precision;
    }

    /** Whether this host can run the path at all, and why (not). */
    public Availability availability() {
        return availability;
    }

    /** Whether the backend has a thread count (then results must not depend on it). */
    public boolean hasThreads() {
        return threadsHere != null;
    }

    /** The thread count the backend has in this JVM now; 0 when it has none. */
    public int threadsHere() {
        return threadsHere == null ? 0 : threadsHere.getAsInt();
    }

    /**
     * Null when this JVM can run the path with {@code threads} threads (0: as it has), else why not (the path or
     * that thread count is fixed at start-up, or the host cannot run the path at all).
     */
    public String obstacleHere(int threads) {
        if (threads < 0) {
            throw new IllegalArgumentException("threads: expected 0 (as configured) or a positive count, got "
                    + threads);
        }
        if (!availability.isAvailable()) {
            return availability.reason();
        }
        if (threads > 0 && threadsHere == null) {
            return "backend '" + backend + "' has no thread count to set";
        }
        return switcher.obstacle(threads);
    }

    /**
     * Puts the path in force in this JVM with {@code threads} threads (0: as they are).
     *
     * @throws IllegalStateException with {@link #obstacleHere} when this JVM cannot
     */
    public Selection select(int threads) {
        String obstacle = obstacleHere(threads);
        if (obstacle != null) {
            throw new IllegalStateException(id() + (threads > 0 ? " with " + threads + " threads" : "")
                    + " cannot run in this JVM: " + obstacle);
        }
        return Objects.requireNonNull(switcher.select(threads), "selection");
    }

    /** How a fresh JVM runs this path with {@code threads} threads (0: default), or null when none would. */
    public Launch launch(int threads) {
        return launch == null || !availability.isAvailable() ? null : launch.apply(threads);
    }

    @Override
    public String toString() {
        return id();
    }

    /** Describes a path; only the backend and the name are required. */
    public static final class Builder {
        private final Backend backend;
        private final String name;
        private Precision precision = Precision.FP32;
        private Availability availability;
        private Switch switcher = AS_IS;
        private IntSupplier threadsHere;
        private IntFunction<Launch> launch;

        private Builder(Backend backend, String name) {
            this.backend = Objects.requireNonNull(backend, "backend");
            this.name = Objects.requireNonNull(name, "name");
            if (name.isBlank() || name.contains("/")) {
                throw new IllegalArgumentException("name: expected a non-empty name without '/', got '" + name + "'");
            }
        }

        /** The arithmetic of the path (default {@link Precision#FP32}). */
        public Builder precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /** Whether the host can run it (default: the backend's own availability). */
        public Builder availability(Availability availability) {
            this.availability = Objects.requireNonNull(availability, "availability");
            return this;
        }

        /** How this JVM switches to it (default: it is what this JVM runs, with no thread count to set). */
        public Builder switcher(Switch switcher) {
            this.switcher = Objects.requireNonNull(switcher, "switcher");
            return this;
        }

        /** The backend has a thread count; {@code current} reads it in this JVM. */
        public Builder threads(IntSupplier current) {
            this.threadsHere = Objects.requireNonNull(current, "current");
            return this;
        }

        /** How a fresh JVM runs it with a given thread count (0: default). */
        public Builder launch(IntFunction<Launch> launch) {
            this.launch = Objects.requireNonNull(launch, "launch");
            return this;
        }

        public KernelPath build() {
            if (availability == null) {
                availability = Backends.availabilityOf(backend);
            }
            return new KernelPath(this);
        }
    }
}
