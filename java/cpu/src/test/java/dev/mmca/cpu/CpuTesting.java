package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertNull;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import dev.mmca.testing.RandomInputs;

/** Shared helpers of the CPU backend tests. */
final class CpuTesting {
    private CpuTesting() {
    }

    static void requireNative() {
        Throwable failure = CpuRuntime.loadFailure();
        assertNull(failure, () -> "native CPU library should load: " + CpuRuntime.describe(failure));
    }

    /** The kernel paths this CPU runs, worst first. */
    static List<String> runnableIsas() {
        requireNative();
        List<String> isas = new ArrayList<>(List.of("portable"));
        String best = CpuRuntime.bestIsa();
        if (!best.equals("portable")) {
            isas.add("avx2");
        }
        if (best.equals("avx512")) {
            isas.add("avx512");
        }
        return isas;
    }

    /** Runs {@code check} on every kernel path this CPU runs (worst first), then restores the path in use. */
    static void onEveryIsa(Runnable check) {
        String before = CpuRuntime.isa();
        try {
            for (String isa : runnableIsas()) {
                CpuRuntime.setIsa(isa);
                check.run();
            }
        } finally {
            CpuRuntime.setIsa(before);
        }
    }

    /** One random model case: config plus inputs (masks included, sometimes an all-padded visual row). */
    static final class ModelCase {
        final MmcaConfig config;
        final MmcaInputs inputs;
        final long seed;

        ModelCase(MmcaConfig config, MmcaInputs inputs, long seed) {
            this.config = config;
            this.inputs = inputs;
            this.seed = seed;
        }

        @Override
        public String toString() {
            return config + " B=" + inputs.batch() + " Nv=" + inputs.visualTokens() + " Nt=" + inputs.textTokens()
                    + " vMask=" + (inputs.visualMask() != null) + " tMask=" + (inputs.textMask() != null)
                    + " direct=" + inputs.visual().isDirect() + " seed=" + seed;
        }
    }

    /** Case {@code index} of a sweep that walks every kvHeads ratio of heads 1, 2, 4, 6, 8, 12. */
    static ModelCase modelCase(int index, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[][] ratios = {{1, 1}, {2, 1}, {2, 2}, {4, 1}, {4, 2}, {4, 4}, {6, 1}, {6, 2}, {6, 3}, {6, 6}, {8, 1},
            {8, 2}, {8, 4}, {8, 8}, {12, 3}, {12, 4}};
        int[] hg = ratios[index % ratios.length];
        int[] dimHeads = {16, 80, 64, 8, 33};
        Composition comp = r.nextBoolean() ? Composition.CROSS : Composition.SEED;
        MmcaConfig config = MmcaConfig.builder().dim(8 + r.nextInt(90)).heads(hg[0]).kvHeads(hg[1])
                .dimHead(dimHeads[r.nextInt(dimHeads.length)]).composition(comp).causal(r.nextBoolean())
                .qkNorm(r.nextInt(3) == 0).headMapping(r.nextBoolean() ? HeadMapping.MODULO : HeadMapping.GROUPED)
                .build();
        int b = 1 + r.nextInt(3);
        int nv = 1 + r.nextInt(37);
        int nt = comp == Composition.SEED ? nv : 1 + r.nextInt(29);
        FloatTensor v = RandomInputs.normal(seed + 1, b, nv, config.dim());
        FloatTensor t = RandomInputs.normal(seed + 2, b, nt, config.dim());
        if (r.nextBoolean()) {
            v = RandomInputs.direct(v);
            t = RandomInputs.direct(t);
        }
        Mask vm = null;
        Mask tm = null;
        if (r.nextInt(3) != 0) {
            boolean[] bits = new boolean[b * nv];
            for (int i = 0; i < bits.length; i++) {
                bits[i] = r.nextDouble() < 0.75;
            }
            for (int j = 0; j < nv; j++) {
                bits[j] = false; // batch element 0: every visual token is padding
            }
            vm = Mask.of(bits, b, nv);
            tm = RandomInputs.randomLengths(seed + 3, b, nt, 0);
        }
        return new ModelCase(config, new MmcaInputs(v, t, vm, tm), seed);
    }
}
