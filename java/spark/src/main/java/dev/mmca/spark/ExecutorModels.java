package dev.mmca.spark;

import dev.mmca.SimpleMmca;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkFiles;

/**
 * The models of this JVM (one executor, or the driver in local mode), keyed by weights and backend
 * request: each weights file is read and prepared once per JVM and request, then shared by every
 * task and partition that runs there with that request (a {@link SimpleMmca} is safe for
 * concurrent forward calls). Tasks on different GPUs ask for different devices
 * ({@code cuda:0}, {@code cuda:1}, see {@link TaskBackend}), so they never share a model. Models
 * live as long as the JVM; a shutdown hook releases their backend resources.
 */
final class ExecutorModels {
    private static final Map<String, SimpleMmca> MODELS = new ConcurrentHashMap<>();
    private static final Map<String, Semaphore> FORWARDS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> MODELS.values().forEach(SimpleMmca::close),
                "mmca-spark-models-close"));
    }

    private ExecutorModels() {
    }

    /** The model for {@code weights} on the backend {@code request} ({@code auto}, a name, or {@code cuda:N}). */
    static SimpleMmca get(String weights, String request) {
        return MODELS.computeIfAbsent(weights + "\u0000" + request, k -> load(weights, request));
    }

    /**
     * The permits to call forward on the model of {@code weights} and {@code request}: at most
     * {@code computeThreads} calls at once in this JVM, whichever tasks make them. Backends use
     * every core of the machine (or the whole device) for one call, so one call at a time, with
     * the other tasks converting rows meanwhile, beats calls competing for the same cores, as in
     * the file pipeline.
     */
    static Semaphore forwards(String weights, String request, int computeThreads) {
        return FORWARDS.computeIfAbsent(weights + "\u0000" + request + "\u0000" + computeThreads,
                k -> new Semaphore(computeThreads));
    }

    /** How many models this JVM has loaded (for tests: loading happens once, not per task). */
    static int loads() {
        return LOADS.get();
    }

    private static SimpleMmca load(String weights, String request) {
        LoadedModel m;
        try {
            m = ModelFiles.load(resolve(weights));
        } catch (IOException e) {
            throw new UncheckedIOException("weights: cannot load " + weights + ": " + e.getMessage(), e);
        }
        SimpleMmca model = SimpleMmca.create(m.config(), m.weights(), request);
        LOADS.incrementAndGet();
        return model;
    }

    /**
     * The weights as a local file (see {@link WeightsLocation}): a local path itself when this
     * machine sees it, else the copy shipped to this executor, found by file name (by
     * {@code spark-submit --files}, or by the driver for a Hadoop file system URI).
     */
    static Path resolve(String weights) throws IOException {
        if (WeightsLocation.isLocal(weights)) {
            Path p = WeightsLocation.localPath(weights);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        String name = WeightsLocation.fileName(weights);
        try {
            Path shipped = Path.of(SparkFiles.get(name));
            if (Files.isRegularFile(shipped)) {
                return shipped;
            }
        } catch (RuntimeException e) {
            // No SparkContext here (e.g. a plain unit test): only the direct path applies.
        }
        if (!WeightsLocation.isLocal(weights)) {
            throw new IOException("weights: expected the driver to have shipped " + weights + " to this executor"
                    + " (it does so when the stage transforms), found no shipped " + name);
        }
        throw new IOException("weights: expected a file readable on every executor (a shared path, a Hadoop file"
                + " system URI, or shipped with spark-submit --files " + weights + "), found nothing at " + weights
                + " nor a shipped " + name);
    }
}
