package dev.mmca.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated test once per kernel path of every backend on the class path ({@code java/vector},
 * {@code java/scalar}, {@code cpu/avx512}, {@code cpu/avx2}, {@code cpu/portable}, {@code cuda/fp32},
 * {@code cuda/bf16}, ...), with the path in force during the invocation and passed as a
 * {@link dev.mmca.parity.KernelPath} parameter. A path this
 * host cannot run (no GPU, a CPU without AVX-512, a path fixed when a JVM starts) is reported as skipped, with the
 * reason; under {@value KernelPathInvocations#REQUIRE_PROPERTY} it fails instead.
 *
 * <pre>{@code
 * @ForEachKernelPath
 * void myModelMatchesTheReference(KernelPath path) {
 *     ParityAssertions.assertMatchesReference(path, config, weights, inputs);
 * }
 * }</pre>
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(KernelPathInvocations.class)
public @interface ForEachKernelPath {
    /** Backend names to run on, in this order (empty: every backend on the class path, highest priority first). */
    String[] backends() default {};
}
