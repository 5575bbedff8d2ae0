package dev.mmca.backend.java;

import java.lang.module.ModuleFinder;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Which {@link JavaKernels} this JVM runs, decided once and logged once. The Vector API kernels
 * ({@value #VECTOR_CLASS}) are the only classes that link against {@code jdk.incubator.vector}; they are loaded by
 * name, and only after the module was found, so a JVM without the module never loads them and runs the scalar
 * kernels. By default ({@code auto}) they are chosen when the module is present and the preferred float vector is
 * at least {@value #MIN_BITS} bits (narrower vectors, such as 128-bit NEON, gain too little over C2's own
 * vectorisation of the scalar loops). System property {@value #PROPERTY}: {@code auto}, {@code vector} (an error
 * when the module is missing, never a silent fallback) or {@code scalar}.
 */
final class KernelSelection {
    static final String PROPERTY = "mmca.java.kernels";
    static final String MODULE = "jdk.incubator.vector";
    static final String MODULE_FLAG = "--add-modules " + MODULE;
    static final String VECTOR_CLASS = "dev.mmca.backend.java.VectorKernels";
    static final int MIN_BITS = 256;

    private static final System.Logger LOG = System.getLogger("dev.mmca.backend");

    private KernelSelection() {
    }

    /** The outcome: the kernels and why they were chosen, or (kernels null) why the request cannot be honoured. */
    static final class Choice {
        final JavaKernels kernels;
        final String reason;

        private Choice(JavaKernels kernels, String reason) {
            this.kernels = kernels;
            this.reason = reason;
        }

        static Choice of(JavaKernels kernels, String reason) {
            return new Choice(kernels, reason);
        }

        static Choice error(String reason) {
            return new Choice(null, reason);
        }

        boolean ok() {
            return kernels != null;
        }

        /** {@code vector (why)}, {@code scalar (why)}, or {@code unavailable (why)}. */
        String describe() {
            return ok() ? kernels.name() + " (" + kernels.detail() + "; " + reason + ")" : "unavailable (" + reason + ")";
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    private static final class Holder {
        static final Choice CHOICE = log(choose(System.getProperty(PROPERTY), vectorModule().isPresent(),
                KernelSelection::loadVectorKernels));
    }

    /** This JVM's choice (made, and logged, on first use). */
    static Choice current() {
        return Holder.CHOICE;
    }

    /** The Vector API kernels when they can be loaded here, whatever {@link #current()} chose; for tests. */
    static Optional<JavaKernels> vectorKernelsIfPresent() {
        if (vectorModule().isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(loadVectorKernels());
    }

    /** The module, when it is in the boot layer and this class's module reads it. */
    static Optional<Module> vectorModule() {
        return ModuleLayer.boot().findModule(MODULE).filter(m -> KernelSelection.class.getModule().canRead(m));
    }

    /**
     * Null when a fresh JVM started with {@value #MODULE_FLAG} and {@value #PROPERTY}{@code =vector} runs the Vector
     * API kernels, else why not: this Java runtime has no such module, or (when this JVM has it, so that it can tell)
     * they fail to load. Their vector width is no obstacle: asked for by name, they run at any width.
     */
    static String vectorObstacleInFreshJvm() {
        if (vectorModule().isPresent()) {
            Choice c = choose("vector", true, KernelSelection::loadVectorKernels);
            return c.ok() ? null : c.reason;
        }
        if (ModuleFinder.ofSystem().find(MODULE).isEmpty()) {
            return MODULE + " is not in this Java runtime (" + System.getProperty("java.home") + "), so "
                    + MODULE_FLAG + " cannot add it for the Vector API kernels";
        }
        return null;
    }

    /**
     * The decision for a {@value #PROPERTY} value ({@code null}: auto), given whether the module is present; the
     * vector kernels are loaded (by {@code vectorLoader}) only when the module is.
     */
    static Choice choose(String request, boolean modulePresent, Supplier<JavaKernels> vectorLoader) {
        String r = request == null || request.isBlank() ? "auto" : request.trim().toLowerCase(Locale.ROOT);
        switch (r) {
            case "scalar":
                return Choice.of(ScalarKernels.INSTANCE, "requested by " + PROPERTY + "=scalar");
            case "vector":
            case "auto":
                break;
            default:
                return Choice.error(PROPERTY + ": expected auto, vector or scalar, got '" + request + "'");
        }
        boolean forced = r.equals("vector");
        if (!modulePresent) {
            String why = MODULE + " is not in this JVM; start it with " + MODULE_FLAG + " for the Vector API kernels";
            return forced ? Choice.error(PROPERTY + "=vector: " + why) : Choice.of(ScalarKernels.INSTANCE, why);
        }
        JavaKernels vector;
        try {
            vector = vectorLoader.get();
        } catch (RuntimeException | LinkageError e) {
            String why = "the Vector API kernels failed to load: " + e;
            return forced ? Choice.error(PROPERTY + "=vector: " + why) : Choice.of(ScalarKernels.INSTANCE, why);
        }
        if (forced) {
            return Choice.of(vector, "requested by " + PROPERTY + "=vector");
        }
        if (vector.vectorBits() < MIN_BITS) {
            return Choice.of(ScalarKernels.INSTANCE, "the preferred float vector is " + vector.vectorBits()
                    + " bits; the Vector API kernels are chosen from " + MIN_BITS);
        }
        return Choice.of(vector, MODULE + " present, preferred float vector of at least " + MIN_BITS + " bits");
    }

    private static JavaKernels loadVectorKernels() {
        try {
            return (JavaKernels) Class.forName(VECTOR_CLASS, true, KernelSelection.class.getClassLoader())
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(VECTOR_CLASS + ": " + e, e);
        }
    }

    private static Choice log(Choice c) {
        LOG.log(c.ok() ? System.Logger.Level.INFO : System.Logger.Level.WARNING, "mmca java kernels: " + c.describe());
        return c;
    }
}
