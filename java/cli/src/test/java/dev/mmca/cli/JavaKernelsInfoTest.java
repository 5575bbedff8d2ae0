package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code mmca info} says which java kernels run and why, in a fresh JVM with and without the Vector API module:
 * without it, the flag that turns the Vector API kernels on.
 */
class JavaKernelsInfoTest {
    private static final Pattern LINE = Pattern.compile("(?m)^java kernels: (.*)$");

    private static String kernelsLine(List<String> jvmArgs) throws Exception {
        CommandTestSupport.Result r = ForkedMmca.run(ForkedMmca.testClassPath(), jvmArgs, "info");
        assertEquals(0, r.exitCode, r.toString());
        Matcher m = LINE.matcher(r.out);
        assertTrue(m.find(), r.out);
        return m.group(1);
    }

    @Test
    void withoutTheModuleInfoShowsScalarKernelsAndTheFlag() throws Exception {
        String line = kernelsLine(List.of());
        assertTrue(line.startsWith("scalar (") && line.contains("jdk.incubator.vector is not in this JVM")
                && line.contains("--add-modules jdk.incubator.vector"), line);
    }

    @Test
    void withTheModuleInfoShowsVectorKernelsOrWhyNot() throws Exception {
        String line = kernelsLine(List.of("--add-modules", "jdk.incubator.vector"));
        // the vector kernels, or the scalar ones because this CPU's preferred vector is narrower than 256 bits
        assertTrue(Pattern.matches("vector \\(Vector API, (256|512|1024|2048)-bit float vectors .*", line)
                || Pattern.matches("scalar \\(.*the preferred float vector is (64|128) bits.*", line), line);
    }
}
