package dev.mmca.cli;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.Modality;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.parity.ParityScenario;
import dev.mmca.parity.ParityScenarios;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What {@code mmca parity} checks: a model of one composition and its inputs, the scenarios they give, and the
 * inputs as {@code .npy} files in a folder, which a fresh JVM ({@code mmca parity-worker}) reads back to rebuild
 * the same problem from the same weights file.
 */
sealed interface ParityProblem permits ParityProblem.Simple, ParityProblem.Interleaved {
    String VISUAL = "visual.npy";
    String TEXT = "text.npy";
    String VISUAL_MASK = "visual_mask.npy";
    String TEXT_MASK = "text_mask.npy";
    String TOKENS = "tokens.npy";
    String MODALITY = "modality.npy";

    MmcaConfig config();

    /** The scenarios of the composition ({@link ParityScenarios}). */
    List<ParityScenario> scenarios();

    /** Writes the inputs into {@code dir}, as {@link #read} reads them. */
    void writeInputs(Path dir) throws IOException;

    /**
     * The problem of the weights file {@code weights} read with {@code overrides} (composition interleaved: one
     * interleaved block, else a SimpleMMCA model) and of the inputs {@link #writeInputs} wrote into {@code dir}.
     */
    static ParityProblem read(Path weights, ConfigOverrides overrides, Path dir) throws IOException {
        if (overrides.composition() == Composition.INTERLEAVED) {
            LoadedInterleaved m = ModelFiles.readInterleaved(weights, overrides);
            return new Interleaved(m.config(), m.weights(), Npy.read(dir.resolve(TOKENS)).toFloatTensor(),
                    Npy.readIntegers(dir.resolve(MODALITY)).toModality());
        }
        LoadedModel m = ModelFiles.read(weights, overrides);
        Mask vm = Files.exists(dir.resolve(VISUAL_MASK)) ? Npy.read(dir.resolve(VISUAL_MASK)).toMask() : null;
        Mask tm = Files.exists(dir.resolve(TEXT_MASK)) ? Npy.read(dir.resolve(TEXT_MASK)).toMask() : null;
        return new Simple(m.config(), m.weights(), new MmcaInputs(Npy.read(dir.resolve(VISUAL)).toFloatTensor(),
                Npy.read(dir.resolve(TEXT)).toFloatTensor(), vm, tm));
    }

    /** A SimpleMMCA model (composition cross or seed) on visual and text tokens. */
    record Simple(MmcaConfig config, MmcaWeights weights, MmcaInputs inputs) implements ParityProblem {
        @Override
        public List<ParityScenario> scenarios() {
            return ParityScenarios.standard(config, weights, inputs);
        }

        @Override
        public void writeInputs(Path dir) throws IOException {
            Npy.writeFloats(dir.resolve(VISUAL), inputs.visual());
            Npy.writeFloats(dir.resolve(TEXT), inputs.text());
            if (inputs.visualMask() != null) {
                Npy.writeMask(dir.resolve(VISUAL_MASK), inputs.visualMask());
            }
            if (inputs.textMask() != null) {
                Npy.writeMask(dir.resolve(TEXT_MASK), inputs.textMask());
            }
        }
    }

    /** One interleaved block (composition interleaved) on interleaved tokens with their modality. */
    record Interleaved(MmcaConfig config, MgqaWeights weights, FloatTensor tokens, Modality modality)
            implements ParityProblem {
        @Override
        public List<ParityScenario> scenarios() {
            return ParityScenarios.interleaved(config, weights, tokens, modality);
        }

        @Override
        public void writeInputs(Path dir) throws IOException {
            Npy.writeFloats(dir.resolve(TOKENS), tokens);
            Npy.writeModality(dir.resolve(MODALITY), modality);
        }
    }
}
