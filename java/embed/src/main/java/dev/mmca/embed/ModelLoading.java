package dev.mmca.embed;

import dev.mmca.SimpleMmca;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import java.io.IOException;
import java.nio.file.Path;

/** Loads a weights file into a model on the requested backend. */
final class ModelLoading {
    private static final System.Logger LOG = System.getLogger("dev.mmca.embed");

    private ModelLoading() {
    }

    static SimpleMmca load(Path weights, String backend, ConfigOverrides overrides) throws IOException {
        LoadedModel loaded = ModelFiles.load(weights, overrides == null ? ConfigOverrides.none() : overrides);
        for (String w : loaded.warnings()) {
            LOG.log(System.Logger.Level.WARNING, weights + ": " + w);
        }
        return backend == null ? SimpleMmca.create(loaded.config(), loaded.weights())
                : SimpleMmca.create(loaded.config(), loaded.weights(), backend);
    }
}
