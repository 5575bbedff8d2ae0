package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Backend;
import java.util.Map;
import java.util.Objects;

/**
 * One computation a parity check runs on every kernel path, with named outputs and what each is compared with.
 * The standard ones ({@link ParityScenarios#standard}) are the forward of {@link dev.mmca.SimpleMmca} against the
 * float64 reference and incremental decoding against that forward; the interleaved composition has its own pair
 * ({@link ParityScenarios#interleaved}); a model of another kind brings its own scenario (its float64 reference,
 * its inputs, its outputs) and joins the same report, table and exit code.
 *
 * <p>Output keys in reports are {@code scenario.output}, e.g. {@code forward.text}.
 */
public interface ParityScenario {
    /** A short name, e.g. {@code forward}; unique within a check. */
    String name();

    /** Null when the scenario applies to the model, else why not (e.g. a composition that cannot decode). */
    String inapplicable();

    /** Null when {@code backend} can run the scenario, else why not (e.g. a head width without a kernel). */
    String unsupportedBy(Backend backend);

    /**
     * Runs on {@code backend}, with the kernel path already in force, and returns every output (heap or direct
     * tensors that stay valid after the call) in a fixed order with the time the computation took.
     */
    Run run(Backend backend);

    /**
     * What {@code output} is compared with, for a path computing in {@code precision}; {@code pathOutputs} holds
     * the same path's outputs of every scenario, by {@code scenario.output} key.
     */
    Expectation expectation(String output, Precision precision, Map<String, FloatTensor> pathOutputs);

    /** Outputs by name, in order, and the nanoseconds of the computation proper (not model preparation). */
    record Run(Map<String, FloatTensor> outputs, long nanos) {
        public Run {
            outputs = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(outputs));
        }
    }

    /**
     * The expected values of one output (flat, in the output's layout), what they are ({@code float64} or the key
     * of another output, such as {@code forward.text}), and the bound on the relative error.
     */
    record Expectation(String against, double[] values, double tolerance) {
        public Expectation {
            Objects.requireNonNull(against, "against");
            Objects.requireNonNull(values, "values");
        }
    }
}
