package dev.mmca.spark;

import java.io.Serializable;

/**
 * The values of a {@link MmcaEmbeddings} stage's params at the moment it transforms, as one
 * serializable value that travels to executors (the stage itself stays on the driver).
 *
 * @param visualTokensColumn count column of the visual tokens (flat layout), or null to infer the count
 * @param textTokensColumn count column of the text tokens (flat layout), or null to infer the count
 * @param idColumn column that names a row in error messages, or null
 * @param computeThreads forward calls at once per model in one executor JVM
 */
record StageSettings(String weights, String backend, TokenLayout layout, String visualColumn, String textColumn,
        String visualOutColumn, String textOutColumn, String visualTokensColumn, String textTokensColumn,
        String idColumn, int window, int batchTokens, int computeThreads, boolean keepInputs) implements Serializable {
}
