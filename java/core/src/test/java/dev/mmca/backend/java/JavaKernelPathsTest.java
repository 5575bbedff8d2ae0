package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import dev.mmca.parity.Precision;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The java backend's kernel paths: one per kernel set, named as {@code mmca info} names the kernels, the set in
 * force first and runnable here, the other only in a fresh JVM that its launch starts with that set, and the vector
 * set listed as unavailable, with the reason, where no fresh JVM could run it. Also run by the build in a JVM
 * without the Vector API module, where the scalar set is in force.
 */
class JavaKernelPathsTest {
    private static final JavaBackend JAVA = JavaBackend.instance();

    @Test
    void theSetInForceComesFirstAndRunsHereTheOtherNeedsAFreshJvm() {
        String inForce = KernelSelection.current().kernels.name();
        String other = inForce.equals("vector") ? "scalar" : "vector";
        List<KernelPath> paths = KernelPaths.of(JAVA);
        assertEquals(List.of("java/" + inForce, "java/" + other), paths.stream().map(KernelPath::id).toList());
        assertTrue(JavaBackend.kernels().startsWith(inForce + " ("), "mmca info names it so: " + JavaBackend.kernels());
        for (KernelPath p : paths) {
            assertEquals(Precision.FP32, p.precision(), p.id());
            assertTrue(p.hasThreads(), p.id());
            assertEquals(Parallel.threads(), p.threadsHere(), p.id());
        }
        KernelPath here = paths.get(0);
        assertNull(here.obstacleHere(0));
        assertNull(here.obstacleHere(Parallel.threads()));
        String otherCount = here.obstacleHere(Parallel.threads() + 1);
        assertTrue(otherCount != null && otherCount.contains("fixed when it starts (-Dmmca.java.threads)"), otherCount);
        try (KernelPath.Selection s = here.select(0)) {
            assertEquals(inForce, KernelSelection.current().kernels.name(), "selecting changes nothing");
        }

        KernelPath elsewhere = paths.get(1);
        if (elsewhere.availability().isAvailable()) {
            String obstacle = elsewhere.obstacleHere(0);
            assertEquals("the java kernel set is fixed when the JVM starts (-Dmmca.java.kernels); this JVM runs the "
                    + inForce + " kernels, so the " + other + " kernels need a fresh JVM", obstacle);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> elsewhere.select(0));
            assertEquals("java/" + other + " cannot run in this JVM: " + obstacle, e.getMessage());
        } else {
            assertEquals("vector", other, "scalar kernels run everywhere");
            assertEquals(KernelSelection.vectorObstacleInFreshJvm(), elsewhere.availability().reason());
        }
    }

    @Test
    void eachLaunchAsksForItsSetByNameAndVectorAddsTheModule() {
        Launch vector = JavaKernelPaths.launch("vector", 0);
        assertEquals(List.of("--add-modules", "jdk.incubator.vector"), vector.jvmOptions());
        assertEquals(Map.of("mmca.java.kernels", "vector"), vector.systemProperties());
        assertEquals(Map.of(), vector.environment());
        assertEquals("java --add-modules jdk.incubator.vector -Dmmca.java.kernels=vector", vector.describe());
        Launch scalar = JavaKernelPaths.launch("scalar", 3);
        assertEquals(List.of(), scalar.jvmOptions());
        assertEquals(Map.of("mmca.java.kernels", "scalar", "mmca.java.threads", "3"), scalar.systemProperties());
        for (KernelPath p : JavaKernelPaths.paths(JAVA, "scalar", null)) {
            assertEquals(JavaKernelPaths.launch(p.name(), 2), p.launch(2), p.id());
        }
    }

    @Test
    void aVectorSetNoFreshJvmCouldRunIsListedAsUnavailableWithTheReason() {
        String why = "jdk.incubator.vector is not in this Java runtime (/opt/jre), so --add-modules"
                + " jdk.incubator.vector cannot add it for the Vector API kernels";
        List<KernelPath> paths = JavaKernelPaths.paths(JAVA, "scalar", why);
        assertEquals(List.of("java/scalar", "java/vector"), paths.stream().map(KernelPath::id).toList());
        assertTrue(paths.get(0).availability().isAvailable());
        KernelPath vector = paths.get(1);
        assertFalse(vector.availability().isAvailable());
        assertEquals(why, vector.availability().reason());
        assertEquals(why, vector.obstacleHere(0));
        assertNull(vector.launch(0), "no fresh JVM is started for it");
        // the set in force is never unavailable: it is running
        List<KernelPath> vectorHere = JavaKernelPaths.paths(JAVA, "vector", why);
        assertEquals(List.of("java/vector", "java/scalar"), vectorHere.stream().map(KernelPath::id).toList());
        assertTrue(vectorHere.stream().allMatch(p -> p.availability().isAvailable()));
    }

    @Test
    void aFreshJvmCanRunTheVectorSetWhereverThisJvmCanLoadItOrTheRuntimeHasTheModule() {
        // this build's JDK has the module; with it in this JVM the kernels are also loaded to be sure
        assertNull(KernelSelection.vectorObstacleInFreshJvm());
        assertTrue(KernelPaths.of(JAVA).stream().allMatch(p -> p.availability().isAvailable()));
    }

    @Test
    void anUnknownSetInForceIsRefusedNamingIt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> JavaKernelPaths.paths(JAVA, "simd", null));
        assertEquals("inForce: expected vector or scalar, got 'simd'", e.getMessage());
    }
}
