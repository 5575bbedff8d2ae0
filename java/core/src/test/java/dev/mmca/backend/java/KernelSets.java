package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

/**
 * The Java kernel sets a test runs on: the scalar set always, the Vector API set whenever this JVM has the module.
 * The build runs the core tests twice (see java/core/pom.xml): with {@code --add-modules jdk.incubator.vector}
 * and system property {@value #MODULE_PROPERTY} = {@code present}, and without both ({@code absent}); so that the
 * vector half of a test cannot silently vanish, a run that was started with the module insists on it.
 */
final class KernelSets {
    /** Set by the build's test runs: whether they started the JVM with the vector module. */
    static final String MODULE_PROPERTY = "mmca.test.vectorModule";

    private KernelSets() {
    }

    static List<JavaKernels> all() {
        List<JavaKernels> sets = new ArrayList<>();
        sets.add(ScalarKernels.INSTANCE);
        if ("present".equals(System.getProperty(MODULE_PROPERTY))) {
            assertTrue(KernelSelection.vectorModule().isPresent(),
                    MODULE_PROPERTY + "=present, but " + KernelSelection.MODULE + " is not in this JVM");
        }
        KernelSelection.vectorKernelsIfPresent().ifPresent(sets::add);
        return sets;
    }
}
