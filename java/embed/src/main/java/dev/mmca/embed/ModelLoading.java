package dev.mmca.embed;

import dev.mmca.SimpleMmca;
import dev.mmca.io.LoadedModel;

/** Puts a loaded model on the requested backend. */
final class ModelLoading {
    private ModelLoading() {
    }

    /** {@code backend}: a name, {@code auto}, or null for the default request (property, environment, auto). */
    static SimpleMmca create(LoadedModel loaded, String backend) {
        return backend == null ? SimpleMmca.create(loaded.config(), loaded.weights())
                : SimpleMmca.create(loaded.config(), loaded.weights(), backend);
    }

}
