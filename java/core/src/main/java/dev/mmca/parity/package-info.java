/**
 * Parity: how far a backend's outputs are from the exact answer, and whether that is within what its arithmetic
 * allows.
 *
 * <ul>
 *   <li>{@link dev.mmca.parity.Reference64}: the specification computed literally in float64, the answer every
 *   backend is judged against;</li>
 *   <li>{@link dev.mmca.parity.Precision}: the bounds, derived from the arithmetic of a kernel path (float32 1e-5,
 *   bfloat16 and float16 1e-2, ...), with the reason for each: the one place they are defined;</li>
 *   <li>{@link dev.mmca.parity.Comparison}: relative error, largest absolute error and its position, bit
 *   identity;</li>
 *   <li>{@link dev.mmca.parity.SeededInputs} and {@link dev.mmca.parity.ParityCases}: inputs and a sweep of odd
 *   sizes and corner cases that a seed reproduces;</li>
 *   <li>{@link dev.mmca.parity.KernelPath} and {@link dev.mmca.parity.KernelPaths}: the ways each backend computes
 *   (instruction sets, precisions, kernel sets) and how to force each, here or in a fresh JVM
 *   ({@link dev.mmca.parity.Launch});</li>
 *   <li>{@link dev.mmca.parity.ParityCheck}: every path, every thread count, every
 *   {@link dev.mmca.parity.ParityScenario} (the forward, incremental decoding, of a SimpleMMCA model or of the
 *   interleaved composition: {@link dev.mmca.parity.ParityScenarios}), judged into a
 *   {@link dev.mmca.parity.ParityReport}; what {@code mmca parity} runs.</li>
 * </ul>
 *
 * The JUnit 5 side (running a test on every path, assertions) is the {@code mmca-testkit} artifact.
 */
package dev.mmca.parity;
