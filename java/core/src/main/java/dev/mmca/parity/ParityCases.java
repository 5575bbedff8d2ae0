package dev.mmca.parity;

import dev.mmca.Composition;
import dev.mmca.HeadMapping;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The configuration sweep every backend is checked on against {@link Reference64}: every kvHeads ratio, odd sizes
 * (dim 33, dimHead 5 and 80, 97 and 130 tokens across tile edges), masks (prefix and scattered, an all-masked
 * visual row), causal on and off, qkNorm, both compositions and head mappings, Nv != Nt. Seeded, so a failure
 * names a case that reproduces.
 */
public final class ParityCases {
    private ParityCases() {
    }

    /** The hand-picked corner cases followed by {@code randomCount} random ones (the same list on every run). */
    public static List<ParityCase> sweep(int randomCount) {
        if (randomCount < 0) {
            throw new IllegalArgumentException("randomCount: expected >= 0, got " + randomCount);
        }
        List<ParityCase> cases = new ArrayList<>();
        // every kvHeads ratio for heads = 6: 1 (MQA), 2, 3, 6 (MHA)
        for (int g : new int[] {1, 2, 3, 6}) {
            for (HeadMapping hm : HeadMapping.values()) {
                MmcaConfig c = MmcaConfig.builder().dim(24).heads(6).kvHeads(g).dimHead(8).headMapping(hm).build();
                cases.add(new ParityCase("ratio-G" + g + "-" + hm, c, 2, 5, 7, null, null, 100 + g));
            }
        }
        MmcaConfig d80 = MmcaConfig.builder().dim(40).heads(4).kvHeads(2).dimHead(80).qkNorm(true).build();
        cases.add(new ParityCase("dimHead80-qkNorm", d80, 2, 9, 4, null, null, 7));
        MmcaConfig seed = MmcaConfig.builder().dim(33).heads(4).kvHeads(2).dimHead(16)
                .composition(Composition.SEED).causal(true).build();
        cases.add(new ParityCase("seed-causal-masks", seed, 3, 6, 6, SeededInputs.randomLengths(3, 3, 6, 1),
                SeededInputs.randomLengths(4, 3, 6, 1), 8));
        MmcaConfig seedNc = MmcaConfig.builder().dim(20).heads(2).kvHeads(1).dimHead(12)
                .composition(Composition.SEED).build();
        cases.add(new ParityCase("seed-default", seedNc, 2, 5, 5, null, null, 9));
        // an all-masked visual row: its visual output is zero, and its text rows see no visual key
        MmcaConfig cross = MmcaConfig.builder().dim(32).heads(4).kvHeads(2).dimHead(8).build();
        boolean[] vm = new boolean[2 * 6];
        for (int i = 6; i < 12; i++) {
            vm[i] = i % 2 == 0;
        }
        cases.add(new ParityCase("all-masked-visual-row", cross, 2, 6, 5, Mask.of(vm, 2, 6),
                SeededInputs.randomLengths(11, 2, 5, 1), 10));
        cases.add(new ParityCase("scattered-masks-long-text", cross, 2, 3, 70,
                SeededInputs.scattered(12, 2, 3, 0.6), SeededInputs.scattered(13, 2, 70, 0.7), 11));
        cases.add(new ParityCase("tiles-crossing", MmcaConfig.builder().dim(48).heads(8).kvHeads(2).dimHead(24)
                .build(), 1, 130, 97, null, null, 12));

        SplittableRandom r = new SplittableRandom(2024);
        int[] headChoices = {1, 2, 3, 4, 6, 8};
        for (int n = 0; n < randomCount; n++) {
            int heads = headChoices[r.nextInt(headChoices.length)];
            List<Integer> divisors = new ArrayList<>();
            for (int g = 1; g <= heads; g++) {
                if (heads % g == 0) {
                    divisors.add(g);
                }
            }
            int kv = divisors.get(r.nextInt(divisors.size()));
            Composition comp = r.nextBoolean() ? Composition.CROSS : Composition.SEED;
            MmcaConfig c = MmcaConfig.builder()
                    .dim(1 + r.nextInt(47))
                    .heads(heads)
                    .kvHeads(kv)
                    .dimHead(new int[] {1, 5, 8, 16, 32, 80}[r.nextInt(6)])
                    .causal(r.nextBoolean())
                    .qkNorm(r.nextInt(4) == 0)
                    .composition(comp)
                    .headMapping(r.nextBoolean() ? HeadMapping.MODULO : HeadMapping.GROUPED)
                    .build();
            int b = 1 + r.nextInt(3);
            int nv = 1 + r.nextInt(40);
            int nt = comp == Composition.SEED ? nv : 1 + r.nextInt(40);
            Mask vmask = r.nextInt(3) == 0 ? SeededInputs.randomLengths(r.nextLong(), b, nv, 0)
                    : r.nextInt(4) == 0 ? SeededInputs.scattered(r.nextLong(), b, nv, 0.5) : null;
            Mask tmask = r.nextInt(3) == 0 ? SeededInputs.randomLengths(r.nextLong(), b, nt, 0) : null;
            cases.add(new ParityCase("random-" + n, c, b, nv, nt, vmask, tmask, r.nextLong()));
        }
        return cases;
    }
}
