package dev.mmca.testkit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs the annotated test once per backend on the class path, on the kernel path each has in force by default,
 * passed as a {@link dev.mmca.parity.KernelPath} parameter ({@link dev.mmca.parity.KernelPath#backend()} is the
 * backend). A backend this host cannot run is reported as skipped, with the reason; under
 * {@value KernelPathInvocations#REQUIRE_PROPERTY} it fails instead. {@link ForEachKernelPath} runs every path.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(KernelPathInvocations.class)
public @interface ForEachBackend {
    /** Backend names to run on, in this order (empty: every backend on the class path, highest priority first). */
    String[] value() default {};
}
