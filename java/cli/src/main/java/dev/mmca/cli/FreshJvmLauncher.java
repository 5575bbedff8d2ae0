package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.io.Npy;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.Launch;
import dev.mmca.parity.PathLauncher;
import dev.mmca.parity.PathRun;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a kernel path in a fresh JVM: this command again ({@code mmca parity-worker}), on this JVM's class path and
 * options plus the path's {@link Launch}, on the same weights file and on the inputs as this JVM holds them
 * (written once as {@code .npy}, {@link ParityProblem#writeInputs}); the worker writes its outputs as
 * {@code .npy}, which are read back here.
 */
final class FreshJvmLauncher implements PathLauncher {
    /** How long one fresh JVM may take (it computes one path's scenarios once). */
    static final long TIMEOUT_MINUTES = 60;

    private final Path weights;
    private final ParityProblem problem;
    private final Path work;
    private Path inputDir;
    private int runs;

    FreshJvmLauncher(Path weights, ParityProblem problem, Path work) {
        this.weights = weights;
        this.problem = problem;
        this.work = work;
    }

    @Override
    public PathRun run(KernelPath path, int threads, Launch launch, List<String> scenarios) throws Exception {
        Path out = Files.createDirectories(work.resolve("run-" + (++runs)));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(inheritedOptions());
        command.addAll(launch.jvmOptions());
        launch.systemProperties().forEach((k, v) -> command.add("-D" + k + "=" + v));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Main.class.getName());
        command.add(ParityWorkerCommand.NAME);
        command.add("--weights");
        command.add(weights.toAbsolutePath().toString());
        command.addAll(ConfigOptions.exactly(problem.config()));
        command.add("--inputs");
        command.add(inputDir().toString());
        command.add("--path");
        command.add(path.id());
        command.add("--threads");
        command.add(Integer.toString(threads));
        command.add("--scenarios");
        command.add(String.join(",", scenarios));
        command.add("--out");
        command.add(out.toString());
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.resolve("stdout.txt").toFile())
                .redirectError(out.resolve("stderr.txt").toFile());
        pb.environment().putAll(launch.environment());
        Process p = pb.start();
        boolean done;
        try {
            done = p.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw e;
        }
        if (!done) {
            p.destroyForcibly();
            throw new IOException("a fresh JVM (" + launch.describe() + ") did not finish in " + TIMEOUT_MINUTES
                    + " minutes");
        }
        if (p.exitValue() != 0) {
            String err = Files.readString(out.resolve("stderr.txt"), StandardCharsets.UTF_8).strip();
            throw new IOException("a fresh JVM (" + launch.describe() + ") exited with " + p.exitValue() + ": "
                    + lastLines(err, 3));
        }
        Map<String, FloatTensor> outputs = new LinkedHashMap<>();
        for (String key : Files.readAllLines(out.resolve(ParityWorkerCommand.INDEX), StandardCharsets.UTF_8)) {
            if (!key.isBlank()) {
                outputs.put(key, Npy.read(out.resolve(key + ".npy")).toFloatTensor());
            }
        }
        Properties times = new Properties();
        try (InputStream s = Files.newInputStream(out.resolve(ParityWorkerCommand.TIMES))) {
            times.load(s);
        }
        Map<String, Long> nanos = new LinkedHashMap<>();
        for (String s : scenarios) {
            String v = times.getProperty(s);
            if (v != null) {
                nanos.put(s, Long.parseLong(v));
            }
        }
        return new PathRun(outputs, nanos, "fresh JVM: " + launch.describe());
    }

    /** The inputs as this JVM holds them, written once. */
    private Path inputDir() throws IOException {
        if (inputDir == null) {
            Path dir = Files.createDirectories(work.resolve("inputs"));
            problem.writeInputs(dir);
            inputDir = dir;
        }
        return inputDir;
    }

    /**
     * This JVM's options (heap, native access, system properties such as JavaCPP's cache), without debugger and
     * agent options, which a second JVM must not share; the path's own settings come after them and win.
     */
    static List<String> inheritedOptions() {
        List<String> options = new ArrayList<>();
        List<String> all;
        try {
            all = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
        } catch (LinkageError | RuntimeException e) {
            return options; // a runtime without java.management: the path's settings alone
        }
        for (String o : all) {
            if (o.startsWith("-agentlib:") || o.startsWith("-agentpath:") || o.startsWith("-javaagent:")
                    || o.startsWith("-Xrunjdwp") || o.equals("-Xdebug")) {
                continue;
            }
            options.add(o);
        }
        return options;
    }

    private static String lastLines(String text, int n) {
        String[] lines = text.split("\n");
        return String.join(" | ", java.util.Arrays.asList(lines).subList(Math.max(0, lines.length - n), lines.length));
    }

    /** Deletes {@code dir} and everything in it; what cannot be deleted is left (it is in the temporary directory). */
    static void deleteTree(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left in the temporary directory
                }
            });
        } catch (IOException e) {
            // nothing to delete
        }
    }
}
