/**
 * The parity test kit for JUnit 5: {@link dev.mmca.testkit.ForEachKernelPath} and
 * {@link dev.mmca.testkit.ForEachBackend} run a test on every kernel path or backend the host has (and report the
 * others as skipped, with the reason), and {@link dev.mmca.testkit.ParityAssertions} compares outputs with the
 * float64 reference ({@link dev.mmca.parity.Reference64}) within the bounds of {@link dev.mmca.parity.Precision}.
 * Seeded inputs come from {@link dev.mmca.parity.SeededInputs} and {@link dev.mmca.parity.ParityCases}.
 */
package dev.mmca.testkit;
