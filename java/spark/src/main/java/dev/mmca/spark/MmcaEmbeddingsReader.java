package dev.mmca.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.MLReader;

/**
 * Loads a stage saved by {@link MmcaEmbeddingsWriter}: the params from Spark's metadata, and the
 * {@code weights} param pointed at the weights file inside the folder (a fully qualified path on
 * the folder's file system, so executors of this cluster find it wherever the folder now is).
 */
final class MmcaEmbeddingsReader extends MLReader<MmcaEmbeddings> {
    @Override
    public MmcaEmbeddings load(String path) {
        MLReader<Object> params = new DefaultParamsReadable<Object>() { }.read();
        Object loaded = params.session(sparkSession()).load(path);
        if (!(loaded instanceof MmcaEmbeddings stage)) {
            throw new IllegalArgumentException("path: expected a saved " + MmcaEmbeddings.class.getName()
                    + " stage, found a saved " + loaded.getClass().getName() + " at " + path);
        }
        String name = stage.getWeights();
        Path file = new Path(path, name);
        try {
            FileSystem fs = file.getFileSystem(sparkSession().sparkContext().hadoopConfiguration());
            if (!fs.isFile(file)) {
                throw new IOException("expected the stage's weights file " + name + " in the folder, found none at "
                        + file + " (a stage folder must be copied whole)");
            }
            stage.setWeights(fs.makeQualified(file).toString());
        } catch (IOException e) {
            throw new UncheckedIOException("weights: cannot load the stage at " + path + ": " + e.getMessage(), e);
        }
        return stage;
    }
}
