package dev.mmca.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.MLWriter;

/**
 * Saves a stage as a self-contained folder: Spark's params metadata ({@code metadata/}) and a copy
 * of the weights file, named by its content ({@code weights-<sha256 prefix>.safetensors}) and
 * recorded in the saved {@code weights} param relative to the folder, so the folder (alone, or
 * inside a saved {@code PipelineModel}) can be moved or loaded on another cluster.
 *
 * <p>Naming the copy by content keeps two stages with different weights apart when executors
 * fetch both by file name (see {@link WeightsLocation}).
 */
final class MmcaEmbeddingsWriter extends MLWriter {
    static final String WEIGHTS_PREFIX = "weights-";
    static final String WEIGHTS_SUFFIX = ".safetensors";

    private final MmcaEmbeddings stage;

    MmcaEmbeddingsWriter(MmcaEmbeddings stage) {
        this.stage = stage;
    }

    @Override
    public void saveImpl(String path) {
        String weights = stage.settings().weights();
        Configuration conf = sparkSession().sparkContext().hadoopConfiguration();
        try {
            Path source = hadoopPath(weights);
            FileSystem sourceFs = source.getFileSystem(conf);
            if (!sourceFs.isFile(source)) {
                throw new IOException("expected a weights file readable on the driver, found none at " + source);
            }
            String name = WEIGHTS_PREFIX + contentId(sourceFs, source) + WEIGHTS_SUFFIX;
            MmcaEmbeddings saved = stage.copy(ParamMap.empty()).setWeights(name);
            saved.paramsWriter().session(sparkSession()).save(path);
            Path target = new Path(path, name);
            if (!FileUtil.copy(sourceFs, source, target.getFileSystem(conf), target, false, conf)) {
                throw new IOException("copying to " + target + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("weights: cannot save " + weights + " into the stage folder " + path + ": "
                    + e.getMessage(), e);
        }
    }

    /** A local path as a {@code file:} path (never the cluster's default file system), a URI as itself. */
    private static Path hadoopPath(String weights) {
        return WeightsLocation.scheme(weights) == null
                ? new Path(WeightsLocation.localPath(weights).toAbsolutePath().toUri())
                : new Path(weights);
    }

    /** The first 16 hex digits of the file's SHA-256. */
    private static String contentId(FileSystem fs, Path file) throws IOException {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
        byte[] buf = new byte[1 << 16];
        try (InputStream in = fs.open(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                sha.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(sha.digest(), 0, 8);
    }
}
