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
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.SparkFiles;

/**
 * The models of this JVM (one executor, or the driver in local mode), keyed by weights path and
 * backend: each weights file is read and prepared once per JVM, then shared by every task and
 * partition that runs there (a {@link SimpleMmca} is safe for concurrent forward calls). Models
 * live as long as the JVM; a shutdown hook releases their backend resources.
 */
final class ExecutorModels {
    private static final Map<String, SimpleMmca> MODELS = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> MODELS.values().forEach(SimpleMmca::close),
                "mmca-spark-models-close"));
    }

    private ExecutorModels() {
    }

    /** The model for {@code weights} on {@code backend} ({@code auto} picks the best one of this machine). */
    static SimpleMmca get(String weights, String backend) {
        return MODELS.computeIfAbsent(weights + "\u0000" + backend, k -> load(weights, backend));
    }

    /** How many models this JVM has loaded (for tests: loading happens once, not per task). */
    static int loads() {
        return LOADS.get();
    }

    private static SimpleMmca load(String weights, String backend) {
        try {
            LoadedModel m = ModelFiles.load(resolve(weights));
            LOADS.incrementAndGet();
            return SimpleMmca.create(m.config(), m.weights(), backend);
        } catch (IOException e) {
            throw new UncheckedIOException("weights: cannot load " + weights + ": " + e.getMessage(), e);
        }
    }

    /**
     * The weights as a local file: the path itself when this machine sees it (local mode, a shared
     * file system), else the copy shipped to executors with {@code spark-submit --files}.
     */
    static Path resolve(String weights) throws IOException {
        Path p = Path.of(weights);
        if (Files.isRegularFile(p)) {
            return p;
        }
        String name = p.getFileName() == null ? weights : p.getFileName().toString();
        try {
            Path shipped = Path.of(SparkFiles.get(name));
            if (Files.isRegularFile(shipped)) {
                return shipped;
            }
        } catch (RuntimeException e) {
            // No SparkContext here (e.g. a plain unit test): only the direct path applies.
        }
        throw new IOException("weights: expected a file readable on every executor (a shared path, or shipped with"
                + " spark-submit --files " + weights + "), found nothing at " + weights + " nor a shipped " + name);
    }
}
