package dev.mmca.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaWeights;
import dev.mmca.parity.ParityCase;
import dev.mmca.parity.ParityCases;
import dev.mmca.parity.Reference64;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The composition, independent of any backend: the SimpleMMCA plan interpreted in double precision (every
 * operation, its operands, strides and masks exactly as the plan states them) matches the float64 oracle to
 * rounding on the whole parity sweep. Backends then only have to get their operations right.
 */
class SimpleMmcaPlanTest {
    static Stream<ParityCase> cases() {
        return ParityCases.sweep(40).stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void planInFloat64EqualsTheOracle(ParityCase c) {
        MmcaWeights w = c.weights();
        FloatTensor v = c.visual();
        FloatTensor t = c.text();
        SimpleMmcaPlan plan = SimpleMmcaPlan.of(c.config());
        SimpleMmcaPlan.Forward f = plan.forward(c.batch(), c.visualTokens(), c.textTokens(), c.visualMask() != null,
                c.textMask() != null);
        PlanInterpreter run = new PlanInterpreter(plan.packWeights(w));
        run.input(f.visual, v);
        run.input(f.text, t);
        run.mask(f.visualMask, c.visualMask());
        run.mask(f.textMask, c.textMask());
        f.plan.run(run);
        Reference64.Output ref = Reference64.simpleMmca(c.config(), w, v, t, c.visualMask(), c.textMask());
        // The only float32 in the interpreted plan is the logit scale (D^-0.5 rounded once), about 3e-8 relative.
        double ev = run.error(f.visualOut, ref.visual);
        double et = run.error(f.textOut, ref.text);
        assertTrue(ev < 1e-7, "visual: relative error " + ev);
        assertTrue(et < 1e-7, "text: relative error " + et);
        assertEquals(5, f.plan.ops().stream().filter(op -> op instanceof LinearOp).count(), "five GEMMs");
    }
}
