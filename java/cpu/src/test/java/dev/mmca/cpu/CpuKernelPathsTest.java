package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.Backends;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import dev.mmca.parity.Precision;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The cpu backend's kernel paths: every instruction set, the ones this CPU lacks unavailable, selection and launch. */
class CpuKernelPathsTest {
    @Test
    void everyInstructionSetIsAPathTheOneInForceFirstAndTheLackingOnesSayWhy() {
        List<KernelPath> paths = KernelPaths.of(Backends.byName("cpu"));
        List<String> names = paths.stream().map(KernelPath::name).toList();
        assertEquals(3, names.size(), names.toString());
        assertTrue(names.containsAll(List.of("avx512", "avx2", "portable")), names.toString());
        assertEquals(CpuRuntime.isa(), names.get(0), "the path in force is first");
        List<String> runnable = CpuTesting.runnableIsas();
        for (KernelPath p : paths) {
            assertEquals("cpu/" + p.name(), p.id());
            assertEquals(Precision.FP32, p.precision());
            assertTrue(p.hasThreads());
            assertEquals(runnable.contains(p.name()), p.availability().isAvailable(), p + ": " + p.availability());
            if (!p.availability().isAvailable()) {
                assertTrue(p.availability().reason().startsWith("this CPU lacks "), p.availability().reason());
                assertEquals(p.availability().reason(), p.obstacleHere(0));
            } else {
                assertNull(p.obstacleHere(1), "switches in this JVM at any thread count");
                assertNull(p.obstacleHere(5));
            }
        }
    }

    @Test
    void selectingAPathSetsItsInstructionSetAndThreadsAndClosingRestoresThem() {
        String isa = CpuRuntime.isa();
        int threads = CpuRuntime.threads();
        for (KernelPath p : KernelPaths.of(Backends.byName("cpu"))) {
            if (!p.availability().isAvailable()) {
                continue;
            }
            try (KernelPath.Selection s = p.select(threads + 2)) {
                assertEquals(p.name(), CpuRuntime.isa());
                assertEquals(threads + 2, CpuRuntime.threads());
                assertEquals(threads + 2, p.threadsHere());
            }
            assertEquals(isa, CpuRuntime.isa());
            assertEquals(threads, CpuRuntime.threads());
            try (KernelPath.Selection s = p.select(0)) {
                assertEquals(threads, CpuRuntime.threads(), "0 keeps the thread count");
            }
        }
    }

    @Test
    void aFreshJvmStartedAsALaunchSaysRunsThatPath() throws Exception {
        for (KernelPath p : KernelPaths.of(Backends.byName("cpu"))) {
            if (!p.availability().isAvailable()) {
                continue;
            }
            Launch launch = p.launch(3);
            assertEquals(Map.of("MMCA_CPU_ISA", p.name()), launch.environment());
            assertEquals(Map.of(CpuRuntime.THREADS_PROPERTY, "3"), launch.systemProperties());
            assertEquals(p.name() + " 3", probe(launch), launch.describe());
        }
    }

    /** What IsaProbe prints (the path and the thread count) in a JVM started as {@code launch} says. */
    private static String probe(Launch launch) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-cp", System.getProperty("java.class.path"),
                "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir", "target")));
        command.addAll(launch.jvmOptions());
        launch.systemProperties().forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.addAll(List.of(IsaProbe.class.getName(), "isa-and-threads"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("MMCA_CPU_ISA");
        pb.environment().putAll(launch.environment());
        Process proc = pb.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(proc.waitFor(60, TimeUnit.SECONDS), "probe finished");
        assertEquals(0, proc.exitValue(), out);
        String[] lines = out.split("\n");
        return lines[lines.length - 1].trim();
    }
}
