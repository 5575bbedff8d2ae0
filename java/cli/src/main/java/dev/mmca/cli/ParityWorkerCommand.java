package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.io.Npy;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.ParityScenario;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The fresh JVM of {@code mmca parity}: runs the named scenarios on one kernel path, which the JVM's start-up
 * settings must have put in force (it refuses otherwise, naming what it found), and writes every output as
 * {@code .npy} into {@code --out} with an index and the times. Not for direct use.
 */
@Command(name = ParityWorkerCommand.NAME, hidden = true,
        description = "Internal: one kernel path of 'mmca parity' in a fresh JVM.")
final class ParityWorkerCommand implements Callable<Integer> {
    static final String NAME = "parity-worker";
    /** The output keys, one per line, in order. */
    static final String INDEX = "outputs.txt";
    /** Nanoseconds per scenario. */
    static final String TIMES = "nanos.properties";

    @Option(names = "--weights", required = true)
    Path weights;

    @Mixin
    ConfigOptions config;

    @Option(names = "--inputs", required = true, description = "folder with the inputs (ParityProblem.writeInputs).")
    Path inputs;

    @Option(names = "--path", required = true, description = "backend/path, e.g. java/scalar.")
    String path;

    @Option(names = "--threads", required = true, description = "thread count the JVM was started with (0: default).")
    int threads;

    @Option(names = "--scenarios", required = true, split = ",")
    List<String> scenarios;

    @Option(names = "--out", required = true)
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ParityProblem problem = ParityProblem.read(weights, config.overrides(spec.commandLine()), inputs);
        KernelPath kernelPath = find(path);
        String obstacle = kernelPath.obstacleHere(threads);
        if (obstacle != null) {
            throw new IllegalStateException("this JVM was started for " + path + " with " + threads
                    + " threads, but cannot run it: " + obstacle);
        }
        List<String> keys = new ArrayList<>();
        Properties times = new Properties();
        try (KernelPath.Selection selected = kernelPath.select(threads)) {
            for (ParityScenario s : problem.scenarios()) {
                if (!scenarios.contains(s.name())) {
                    continue;
                }
                ParityScenario.Run run = s.run(kernelPath.backend());
                times.setProperty(s.name(), Long.toString(run.nanos()));
                for (Map.Entry<String, FloatTensor> o : run.outputs().entrySet()) {
                    String key = s.name() + "." + o.getKey();
                    Npy.writeFloats(out.resolve(key + ".npy"), o.getValue());
                    keys.add(key);
                }
            }
        }
        try (OutputStream s = Files.newOutputStream(out.resolve(TIMES))) {
            times.store(s, null);
        }
        Files.write(out.resolve(INDEX), keys, StandardCharsets.UTF_8);
        return 0;
    }

    /** The path {@code backend[:device]/name} among the backend's paths here. */
    private static KernelPath find(String id) {
        int slash = id.lastIndexOf('/');
        if (slash <= 0) {
            throw new IllegalArgumentException("--path: expected backend/path, got '" + id + "'");
        }
        String request = id.substring(0, slash);
        String name = id.substring(slash + 1);
        int colon = request.indexOf(':');
        Backend b = Backends.byName(colon < 0 ? request : request.substring(0, colon));
        if (colon >= 0) {
            b = b.onDevice(Integer.parseInt(request.substring(colon + 1)));
        }
        List<KernelPath> paths = KernelPaths.of(b);
        if (paths.size() == 1 && !paths.get(0).availability().isAvailable()) {
            throw new IllegalStateException("this JVM was started for " + id + ", but " + request
                    + " cannot run in it: " + paths.get(0).availability().reason());
        }
        for (KernelPath p : paths) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException("--path: " + request + " has no path '" + name + "' here, only "
                + paths.stream().map(KernelPath::name).toList());
    }
}
