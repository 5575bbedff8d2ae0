package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.parity.Comparison;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.testkit.ForEachKernelPath;
import dev.mmca.testkit.ParityAssertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The whole SimpleMMCA forward on the CPU backend against the float64 oracle and the java backend. */
class CpuModelParityTest {
    private static final double TOLERANCE = Precision.FP32.relativeTolerance();
    private static final int CASES = 40;

    /** Every instruction-set path (the kit selects it for the invocation and restores the one before). */
    @ForEachKernelPath(backends = "cpu")
    void randomSweepMatchesFloat64ReferenceOnEveryPath(KernelPath path) {
        assertEquals(path.name(), CpuRuntime.isa(), "the kit put the path in force");
        double worst = 0;
        for (int i = 0; i < CASES; i++) {
            CpuTesting.ModelCase c = CpuTesting.modelCase(i, 1000L + i);
            MmcaWeights w = MmcaWeights.random(c.config, c.seed);
            Reference64.Output ref = Reference64.simpleMmca(c.config, w, c.inputs);
            try (SimpleMmca model = SimpleMmca.create(c.config, w, path.backend())) {
                MmcaOutput out = model.forward(c.inputs);
                Comparison ev = ParityAssertions.assertWithin(path + " " + c + " visual", out.visual(), ref.visual,
                        path.precision());
                Comparison et = ParityAssertions.assertWithin(path + " " + c + " text", out.text(), ref.text,
                        path.precision());
                worst = Math.max(worst, Math.max(ev.relativeError(), et.relativeError()));
            }
        }
        System.out.printf("%s vs Reference64, %d random configs: worst relative error %.3g%n", path, CASES, worst);
    }

    @Test
    void randomSweepMatchesJavaBackend() {
        double worst = 0;
        for (int i = 0; i < CASES; i++) {
            CpuTesting.ModelCase c = CpuTesting.modelCase(i, 5000L + i);
            MmcaWeights w = MmcaWeights.random(c.config, c.seed);
            MmcaOutput expected;
            try (SimpleMmca java = SimpleMmca.create(c.config, w, JavaBackend.instance())) {
                expected = java.forward(c.inputs);
            } catch (UnsupportedOperationException e) {
                Assumptions.abort("java backend not implemented yet: " + e.getMessage());
                return;
            }
            try (SimpleMmca cpu = SimpleMmca.create(c.config, w, new CpuBackend())) {
                MmcaOutput out = cpu.forward(c.inputs);
                double ev = relative(out.visual(), expected.visual());
                double et = relative(out.text(), expected.text());
                worst = Math.max(worst, Math.max(ev, et));
                assertTrue(ev <= TOLERANCE && et <= TOLERANCE, c + ": visual " + ev + ", text " + et);
            }
        }
        System.out.printf("cpu vs java backend, %d random configs: worst relative difference %.3g%n", CASES, worst);
    }

    static double relative(FloatTensor a, FloatTensor b) {
        double num = 0;
        double den = 0;
        for (int i = 0; i < a.size(); i++) {
            double x = a.get(i);
            double y = b.get(i);
            if (!Double.isFinite(x) || !Double.isFinite(y)) {
                return Double.POSITIVE_INFINITY;
            }
            num += (x - y) * (x - y);
            den += y * y;
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
