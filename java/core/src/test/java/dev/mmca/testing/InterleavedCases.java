package dev.mmca.testing;

import dev.mmca.Composition;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.parity.SeededInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The interleaved sequences every backend is checked on (SPEC "Interleaved MMCA"): images at the start, back to
 * back, none at all, only images, padding before, after and inside an image, one token, sequences longer than
 * the kernels' query and key tiles, both image rules, every head ratio and mapping, qk-norm, odd sizes; then
 * seeded random layouts. A failure names a case that reproduces.
 */
public final class InterleavedCases {
    private InterleavedCases() {
    }

    /** One case: the config (composition INTERLEAVED), the modality of every batch element, a seed. */
    public record Case(String name, MmcaConfig config, Modality modality, long seed) {
        public int batch() {
            return modality.batch();
        }

        public int tokens() {
            return modality.length();
        }

        /** The same case under the other image rule. */
        public Case withRule(ImageAttention rule) {
            return new Case(name + "-" + rule.label(), config.toBuilder().imageAttention(rule).build(), modality, seed);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** An interleaved config. */
    public static MmcaConfig config(int dim, int heads, int kvHeads, int dimHead, HeadMapping mapping, boolean qkNorm,
            ImageAttention rule) {
        return MmcaConfig.builder().composition(Composition.INTERLEAVED).dim(dim).heads(heads).kvHeads(kvHeads)
                .dimHead(dimHead).headMapping(mapping).qkNorm(qkNorm).imageAttention(rule).build();
    }

    /**
     * One row from runs such as {@code "t3 i5 .2"}: 3 text, 5 image, 2 padding tokens, in order; the result is in
     * {@link Modality#parse}'s notation.
     */
    public static String row(String runs) {
        StringBuilder sb = new StringBuilder();
        for (String part : runs.trim().split("\\s+")) {
            char c = part.charAt(0);
            int count = Integer.parseInt(part.substring(1));
            sb.append(String.valueOf(c).repeat(count));
        }
        return sb.toString();
    }

    /** Rows given as runs ({@link #row}). */
    public static Modality modality(String... runs) {
        String[] rows = new String[runs.length];
        for (int i = 0; i < runs.length; i++) {
            rows[i] = row(runs[i]);
        }
        return Modality.parse(rows);
    }

    /** The hand-picked ragged cases, each under both image rules, then {@code randomCount} random ones. */
    public static List<Case> sweep(int randomCount) {
        List<Case> base = new ArrayList<>();
        MmcaConfig gqa = config(24, 4, 2, 8, HeadMapping.MODULO, false, ImageAttention.SELF);
        base.add(new Case("images-at-start", gqa, modality("i6 t4", "i3 t7"), 1));
        base.add(new Case("images-back-to-back", gqa, modality("t2 i3 i4 t1", "i4 t1 i5"), 2));
        base.add(new Case("no-images", config(20, 6, 3, 8, HeadMapping.GROUPED, false, ImageAttention.SELF),
                modality("t9", "t9"), 3));
        base.add(new Case("only-images", gqa, modality("i7", "i7"), 4));
        base.add(new Case("padding-around", config(16, 4, 1, 8, HeadMapping.MODULO, false, ImageAttention.SELF),
                modality(".2 t3 i4 t2", "t3 i4 t2 .2", ".11"), 5));
        base.add(new Case("padding-inside", config(16, 2, 2, 8, HeadMapping.GROUPED, true, ImageAttention.SELF),
                modality("t2 i2 .2 i3 t1 .1 t1", "t1 .1 t1 i5 .4"), 6));
        base.add(new Case("one-token", gqa, modality("i1", "t1", ".1"), 7));
        base.add(new Case("qknorm-mqa", config(24, 6, 1, 16, HeadMapping.MODULO, true, ImageAttention.SELF),
                modality("t4 i6 t3 i2 t1", "t1 i9 t5 i1"), 8));
        base.add(new Case("dimHead80", config(40, 4, 2, 80, HeadMapping.GROUPED, false, ImageAttention.SELF),
                modality("t3 i5 t2", "i5 t5"), 9));
        // longer than a query tile (32 rows) and than a native key tile (64 keys); images cross tile edges
        base.add(new Case("tiles-crossing", config(32, 8, 2, 16, HeadMapping.GROUPED, false, ImageAttention.SELF),
                modality("t20 i70 t15 i60 t10 i30 t5", "t3 i100 .20 i40 t47"), 10));
        base.add(new Case("long-text-then-image", config(16, 4, 2, 8, HeadMapping.MODULO, false,
                ImageAttention.SELF), modality("t150 i60 t50"), 11));
        List<Case> cases = new ArrayList<>();
        for (Case c : base) {
            cases.add(c.withRule(ImageAttention.SELF));
            cases.add(c.withRule(ImageAttention.BLOCK));
        }
        SplittableRandom r = new SplittableRandom(4242);
        int[] headChoices = {1, 2, 3, 4, 6};
        for (int k = 0; k < randomCount; k++) {
            int heads = headChoices[r.nextInt(headChoices.length)];
            List<Integer> divisors = new ArrayList<>();
            for (int g = 1; g <= heads; g++) {
                if (heads % g == 0) {
                    divisors.add(g);
                }
            }
            MmcaConfig c = config(1 + r.nextInt(40), heads, divisors.get(r.nextInt(divisors.size())),
                    new int[] {1, 4, 8, 16, 32}[r.nextInt(5)], r.nextBoolean() ? HeadMapping.MODULO : HeadMapping.GROUPED,
                    r.nextInt(4) == 0, r.nextBoolean() ? ImageAttention.SELF : ImageAttention.BLOCK);
            int batch = 1 + r.nextInt(3);
            int n = 1 + r.nextInt(60);
            // runs of random lengths, so images are contiguous as in real sequences
            cases.add(new Case("random-" + k, c, SeededInputs.modality(r.nextLong(), batch, n), r.nextLong()));
        }
        return cases;
    }
}
