package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.fail;

import dev.mmca.backend.PerturbedBackend;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/** Runs {@code mmca} in a fresh JVM, on the test class path or a filtered copy of it, and captures what it prints. */
final class ForkedMmca {
    private ForkedMmca() {
    }

    /** The class path of the tests (surefire may hand it over in a property rather than in java.class.path). */
    static List<String> testClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return Arrays.stream(cp.split(File.pathSeparator)).filter(s -> !s.isBlank()).collect(Collectors.toList());
    }

    static CommandTestSupport.Result run(List<String> classPath, List<String> jvmArgs, String... args)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(String.join(File.pathSeparator, classPath));
        command.add(Main.class.getName());
        command.addAll(Arrays.asList(args));
        Path out = Files.createTempFile("mmca-out", ".txt");
        Path err = Files.createTempFile("mmca-err", ".txt");
        try {
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail("mmca " + String.join(" ", args) + " did not finish in 120 s; stderr: "
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new CommandTestSupport.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * The test class path plus a folder under {@code tmp} whose service file registers {@link PerturbedBackend}: a
     * forked {@code mmca} then has a deliberately broken backend next to the real ones.
     */
    static List<String> withPerturbedBackend(Path tmp) throws IOException {
        Path services = Files.createDirectories(tmp.resolve("extra/META-INF/services"));
        Files.writeString(services.resolve("dev.mmca.backend.Backend"), PerturbedBackend.class.getName() + "\n");
        List<String> cp = new ArrayList<>(testClassPath());
        cp.add(tmp.resolve("extra").toString());
        return cp;
    }

    static List<String> without(List<String> classPath, Predicate<String> drop) {
        return classPath.stream().filter(drop.negate()).collect(Collectors.toList());
    }
}
