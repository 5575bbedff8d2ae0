package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.BackendUnavailableException;
import dev.mmca.backend.Backends;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Discovery, availability, the disable switch, and MMCA_CPU_ISA in a fresh JVM. */
class CpuAvailabilityTest {
    @Test
    void registeredAndAvailableWithHighestCpuPriority() {
        Backend cpu = Backends.byName("cpu");
        assertEquals(10, cpu.priority());
        Availability a = cpu.availability();
        assertTrue(a.isAvailable(), a.reason());
        assertTrue(a.reason().contains(CpuRuntime.isa()), a.reason());
        assertTrue(CpuCalibration.cpuFeatures().startsWith("isa="), CpuCalibration.cpuFeatures());
    }

    @Test
    void disablePropertyMakesItUnavailableAndJavaStillWorks() {
        MmcaConfig config = MmcaConfig.builder().dim(16).heads(2).dimHead(8).build();
        String old = System.getProperty(CpuRuntime.DISABLE_PROPERTY);
        System.setProperty(CpuRuntime.DISABLE_PROPERTY, "true");
        try {
            Availability a = new CpuBackend().availability();
            assertFalse(a.isAvailable());
            assertEquals("disabled by -Dmmca.cpu.disable=true", a.reason());
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> Backends.select("cpu", config));
            assertTrue(e.getMessage().contains("disabled by -Dmmca.cpu.disable=true"), e.getMessage());
            Backend auto = Backends.select("auto", config);
            assertNotEquals("cpu", auto.name());
            MmcaOutput out;
            try (SimpleMmca m = SimpleMmca.create(config, MmcaWeights.random(config, 1), "java")) {
                out = m.forward(RandomInputs.normal(1, 1, 3, 16), RandomInputs.normal(2, 1, 2, 16));
            } catch (UnsupportedOperationException notYet) {
                Assumptions.abort("java backend not implemented yet: " + notYet.getMessage());
                return;
            }
            assertEquals(3 * 16, out.visual().size());
        } finally {
            if (old == null) {
                System.clearProperty(CpuRuntime.DISABLE_PROPERTY);
            } else {
                System.setProperty(CpuRuntime.DISABLE_PROPERTY, old);
            }
        }
        assertTrue(new CpuBackend().availability().isAvailable());
    }

    @Test
    void environmentVariableForcesLowerPathInFreshJvm() throws Exception {
        for (String isa : CpuTesting.runnableIsas()) {
            assertEquals(isa, runProbe(isa), "MMCA_CPU_ISA=" + isa);
        }
        assertEquals(CpuRuntime.bestIsa(), runProbe("bogus").split(" ")[0]);
    }

    @Test
    void threadsPropertySetsThePoolSizeAndABadValueIsReported() throws Exception {
        assertEquals("3", runProbe(null, "-Dmmca.cpu.threads=3", "threads"));
        String bad = runProbe(null, "-Dmmca.cpu.threads=lots", "availability");
        assertTrue(bad.startsWith("unavailable") && bad.contains("mmca.cpu.threads: expected a positive integer, got 'lots'"),
                bad);
        String disabled = runProbe(null, "-Dmmca.cpu.disable=true", "availability");
        assertEquals("unavailable: disabled by -Dmmca.cpu.disable=true", disabled);
    }

    @Test
    void openBlasCoreIsChosenBeforeOpenBlasLoadsAndAUserChoiceIsKept() throws Exception {
        boolean avx512 = List.of(CpuRuntime.cpuFeatures().split(" ")).containsAll(
                List.of("avx512f", "avx512bw", "avx512dq", "avx512vl"));
        String chosen = runProbe(null, "-Dmmca.cpu.unused=0", "blas", null);
        if (avx512) {
            assertTrue(chosen.startsWith("SkylakeX (chosen by mmca"), chosen);
        } else {
            assertTrue(chosen.contains("(OpenBLAS's choice for this CPU, which has no AVX-512)"), chosen);
        }
        // A user's OPENBLAS_CORETYPE wins, and OpenBLAS really runs the kernels it names.
        String user = runProbe(null, "-Dmmca.cpu.unused=0", "blas", "Sandybridge");
        assertEquals("Sandybridge (OPENBLAS_CORETYPE=Sandybridge set by the user)", user);
        // In this JVM the choice was made before OpenBLAS loaded, so it is one of the three decisions.
        assertTrue(CpuRuntime.blasCore().contains("mmca") || CpuRuntime.blasCore().contains("choice for this CPU")
                || CpuRuntime.blasCore().contains("set by the user"), CpuRuntime.blasCore());
    }

    private static String runProbe(String isa) throws IOException, InterruptedException {
        return runProbe(isa, "-Dmmca.cpu.unused=0", "isa");
    }

    private static String runProbe(String isa, String property, String mode) throws IOException, InterruptedException {
        return runProbe(isa, property, mode, null);
    }

    private static String runProbe(String isa, String property, String mode, String blasCore)
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"),
                "-Dorg.bytedeco.javacpp.cachedir=" + System.getProperty("org.bytedeco.javacpp.cachedir", "target"),
                property, IsaProbe.class.getName(), mode));
        if (isa != null) {
            pb.environment().put("MMCA_CPU_ISA", isa);
        } else {
            pb.environment().remove("MMCA_CPU_ISA");
        }
        if (blasCore != null) {
            pb.environment().put("OPENBLAS_CORETYPE", blasCore);
        } else {
            pb.environment().remove("OPENBLAS_CORETYPE");
        }
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "probe finished");
        assertEquals(0, p.exitValue(), out);
        String[] lines = out.split("\n");
        return lines[lines.length - 1].trim();
    }
}
