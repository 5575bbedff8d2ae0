package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.TestProviders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One backend that cannot load does not take the others down: the cpu module on the class path without
 * JavaCPP and OpenBLAS (as a Spark user who adds only its jar gets it), plus providers whose classes are
 * missing or whose constructor fails, in a fresh JVM.
 */
class BackendLoadingTest {
    @TempDir
    Path dir;

    @Test
    void withTheCpuJarButNotJavacppAndWithBrokenProvidersJavaAndAutoStillWork() throws Exception {
        List<String> full = ForkedMmca.testClassPath();
        assertTrue(full.stream().anyMatch(p -> p.contains("mmca-cpu") || p.replace('\\', '/').contains("java/cpu/")),
                "the cpu module is on the test class path: " + full);
        List<String> cp = new ArrayList<>(ForkedMmca.without(full, p -> p.replace('\\', '/').contains("/org/bytedeco/")));
        assertTrue(cp.size() < full.size(), "JavaCPP and the presets were on the class path and are removed");
        Path services = Files.createDirectories(dir.resolve("META-INF/services"));
        Files.writeString(services.resolve("dev.mmca.backend.Backend"), "dev.mmca.absent.AbsentBackend\n"
                + TestProviders.Exploding.class.getName() + "\n");
        cp.add(dir.toString());

        CommandTestSupport.Result info = ForkedMmca.run(cp, List.of(), "info");
        assertEquals(0, info.exitCode, info.toString());
        assertTrue(Pattern.compile("(?m)^  cpu\\s+priority\\s+10\\s+unavailable: .*org[./]bytedeco").matcher(info.out)
                .find(), info.out);
        assertTrue(Pattern.compile("(?m)^  java\\s+priority\\s+0\\s+available").matcher(info.out).find(), info.out);
        assertTrue(Pattern.compile("(?m)^  absent\\s+priority\\s+-1\\s+unavailable: its classes could not be loaded"
                + " \\(dev\\.mmca\\.absent\\.AbsentBackend\\).*not found").matcher(info.out).find(), info.out);
        assertTrue(Pattern.compile("(?m)^  exploding\\s+priority\\s+-1\\s+unavailable: .*could not be instantiated"
                + ".*MissingNativeBinding").matcher(info.out).find(), info.out);

        CommandTestSupport.Result java = ForkedMmca.run(cp, List.of(), "demo", "--backend", "java");
        assertEquals(0, java.exitCode, java.toString());
        assertTrue(java.out.contains("backend:  java"), java.out);
        CommandTestSupport.Result auto = ForkedMmca.run(cp, List.of(), "demo");
        assertEquals(0, auto.exitCode, auto.toString());
        assertTrue(auto.out.contains("backend:  java"), auto.out);

        CommandTestSupport.Result absent = ForkedMmca.run(cp, List.of(), "demo", "--backend", "absent");
        assertEquals(1, absent.exitCode, absent.toString());
        assertTrue(absent.err.startsWith("mmca demo: error: backend 'absent' (requested) is not available: its classes"
                + " could not be loaded (dev.mmca.absent.AbsentBackend)"), absent.err);
        CommandTestSupport.Result cpu = ForkedMmca.run(cp, List.of(), "demo", "--backend", "cpu");
        assertEquals(1, cpu.exitCode, cpu.toString());
        assertTrue(cpu.err.startsWith("mmca demo: error: backend 'cpu' (requested) is not available: "), cpu.err);
        assertTrue(cpu.err.contains("bytedeco"), cpu.err);
        for (CommandTestSupport.Result r : List.of(info, java, auto, absent, cpu)) {
            assertFalse(r.err.contains("\tat ") || r.err.contains("Exception in thread"), "a stack trace: " + r);
        }
    }
}
