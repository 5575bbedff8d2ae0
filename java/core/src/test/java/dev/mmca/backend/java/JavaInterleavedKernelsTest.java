package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.NumericOverflowException;
import dev.mmca.backend.InterleavedProblem;
import dev.mmca.parity.Reference64;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.InterleavedAttentionOp;
import dev.mmca.plan.InterleavedPlan;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.InterleavedChecks;
import dev.mmca.testing.RandomInputs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The interleaved attention kernel of every Java kernel set (scalar, and Vector API when the module is present)
 * against the float64 reference and against each other (SPEC "Interleaved MMCA"): the interleaved sweep, shapes
 * that leave tails in the vector kernel (head widths around its 6-, 4- and 2-wide steps, rows around a block of
 * lanes and a query tile, keys around its 64-key tiles, every head ratio up to 8 query heads per kv head), padding
 * inside and around images, both image rules and head mappings, qk-norm; calls shaped like decoding steps (key
 * lengths, query positions, padding queries, a cache whose unused rows and padding keys are NaN); bits independent
 * of the thread count; and the first overflowed row reported.
 */
class JavaInterleavedKernelsTest {
    static final double TOLERANCE = InterleavedChecks.TOLERANCE;

    /** One interleaved attention call: a problem and its seed. */
    record Call(String name, InterleavedProblem problem, long seed) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Call call(String name, Modality m, int heads, int kvHeads, int dimHead, HeadMapping mapping,
            boolean qkNorm, ImageAttention rule, long seed) {
        return new Call(name + "-" + rule.label(), InterleavedProblem.builder(m).heads(heads).kvHeads(kvHeads)
                .dimHead(dimHead).headMapping(mapping).qkNorm(qkNorm).imageAttention(rule).build(), seed);
    }

    static List<Call> calls() {
        List<Call> calls = new ArrayList<>();
        for (InterleavedCases.Case c : InterleavedCases.sweep(30)) {
            MmcaConfig k = c.config();
            calls.add(new Call(c.name(), InterleavedProblem.builder(c.modality()).heads(k.heads())
                    .kvHeads(k.kvHeads()).dimHead(k.dimHead()).qkNorm(k.qkNorm()).headMapping(k.headMapping())
                    .imageAttention(k.imageAttention()).build(), c.seed()));
        }
        for (ImageAttention rule : ImageAttention.values()) {
            // the benchmark's head layout (16 heads, 4 kv heads, D = 64), images across key tiles and query tiles
            calls.add(call("gqa-16-4-d64", InterleavedCases.modality("t35 i76 t40 i60 t20"), 16, 4, 64,
                    HeadMapping.GROUPED, false, rule, 20));
            // 8 query heads per kv head, D = 13 (tails of every step), padding inside and between images
            calls.add(call("mqa-8-d13", InterleavedCases.modality("t5 i40 .3 i20 t30 .4 i9 t3"), 8, 1, 13,
                    HeadMapping.MODULO, true, rule, 21));
            // D = 70, 3 query heads per kv head (blocks of rows that end inside a query)
            calls.add(call("ratio3-d70", InterleavedCases.modality("i33 t33 i33 t1 i2 t40"), 6, 2, 70,
                    HeadMapping.GROUPED, false, rule, 22));
            // ragged elements: padding at the end, inside, at the start; an element of text only
            calls.add(call("ragged", InterleavedCases.modality("t10 i70 t5 .15", "i50 .10 t25 i15", ".30 t40 i15 t15",
                    "t100"), 4, 2, 24, HeadMapping.MODULO, false, rule, 23));
            // one query head per kv head, D = 1 and 5: a block of rows spans many queries
            calls.add(call("mha-d1", InterleavedCases.modality("t3 i65 t2 i64 t1"), 2, 2, 1, HeadMapping.GROUPED,
                    false, rule, 24));
            calls.add(call("mha-d5-qknorm", InterleavedCases.modality("i70 t70"), 1, 1, 5, HeadMapping.MODULO, true,
                    rule, 25));
        }
        return calls;
    }

    static FloatTensor[] inputs(Call c) {
        InterleavedProblem p = c.problem();
        int b = p.batch();
        int n = p.tokens();
        return new FloatTensor[] {
            RandomInputs.normal(c.seed() + 2, b, n, p.heads() * p.dimHead()),
            RandomInputs.normal(c.seed() + 3, b, n, p.kvHeads() * p.dimHead()),
            RandomInputs.normal(c.seed() + 4, b, n, p.kvHeads() * p.dimHead())};
    }

    /** The call on {@code kernels}, every output element first set to NaN so that an unwritten one fails. */
    static FloatTensor run(JavaKernels kernels, Call c, FloatTensor[] qkv) {
        InterleavedProblem p = c.problem();
        InterleavedPlan.Call call = InterleavedPlan.call(p);
        FloatTensor out = FloatTensor.zeros(p.batch(), p.tokens(), p.heads() * p.dimHead());
        Arrays.fill(out.array(), Float.NaN);
        PlanIo io = new PlanIo().tensor(call.q, qkv[0]).tensor(call.k, qkv[1]).tensor(call.v, qkv[2])
                .modality(call.modality, p.modality()).tensor(call.out, out);
        new JavaMachine(List.of(), kernels).run(call.plan, io);
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("calls")
    void interleavedMatchesTheReferenceOnEveryKernelSetAndTheSetsAgree(Call c) {
        FloatTensor[] qkv = inputs(c);
        double[][][] ref = Reference64.interleavedAttention(c.problem(), qkv[0], qkv[1], qkv[2]);
        FloatTensor first = null;
        for (JavaKernels k : KernelSets.all()) {
            FloatTensor out = run(k, c, qkv);
            double err = Reference64.relativeError(out, ref);
            assertTrue(err <= TOLERANCE, k.name() + ": relative error " + err);
            InterleavedChecks.assertPaddingRowsZero(k.name(), out, c.problem().modality());
            if (first == null) {
                first = out;
            } else {
                double diff = JavaKernelsParityTest.relativeDifference(out.array(), first.array());
                assertTrue(diff <= TOLERANCE, k.name() + " vs scalar: relative difference " + diff);
            }
        }
    }

    /**
     * A call shaped like a decoding step: {@code queries} new rows per element at {@code positions} (-1: a padding
     * token) over a cache of {@code capacity} rows of which the first {@code prefixes[b]}'s length are filled.
     */
    record Step(String name, String[] prefixes, int[][] positions, int capacity, int heads, int kvHeads, int dimHead,
            HeadMapping mapping, boolean qkNorm, ImageAttention rule, long seed) {
        int batch() {
            return prefixes.length;
        }

        int queries() {
            return positions[0].length;
        }

        @Override
        public String toString() {
            return name + "-" + rule.label();
        }
    }

    static List<Step> steps() {
        List<Step> steps = new ArrayList<>();
        for (ImageAttention rule : ImageAttention.values()) {
            // a query at a padding key and one past the key length are padding rows
            steps.add(new Step("small", new String[] {"t3 i5 t2 i4", "i6 t1 .2 t3"},
                    new int[][] {{10, 11, -1, 12, 13}, {7, 9, 10, 11, 12}}, 20, 4, 2, 8, HeadMapping.MODULO, false,
                    rule, 30));
            // the benchmark's heads; a step from the end of an image into text, and one that ends inside an image
            // (the image seen up to the key length)
            steps.add(new Step("gqa-16-4-d64", new String[] {"t35 i80 t40 i70 t9", "t5 i60"},
                    new int[][] {{222, 223, 224, 225, 226, 227, 228}, {-1, 60, 61, 62, 63, 64, -1}}, 250, 16, 4,
                    64, HeadMapping.GROUPED, false, rule, 31));
            // one token per element, qk-norm, D = 13
            steps.add(new Step("one-token", new String[] {"t10 i20 t1", "i20", "t7 i3"},
                    new int[][] {{30}, {19}, {-1}}, 40, 6, 3, 13, HeadMapping.MODULO, true, rule, 32));
            // a whole prompt of 40 rows at once over a longer cache
            int[] all = new int[40];
            int[] shifted = new int[40];
            for (int i = 0; i < 40; i++) {
                all[i] = i;
                shifted[i] = i < 5 ? -1 : i + 30;
            }
            steps.add(new Step("prompt", new String[] {"t4 i30 t6", "t20 i40 t10 .3 t2"}, new int[][] {all, shifted},
                    100, 4, 1, 32, HeadMapping.GROUPED, false, rule, 33));
        }
        return steps;
    }

    /** A step's tensors: q, the cache's k and v, its modality, key lengths, positions, and the expected rows. */
    record StepData(FloatTensor q, FloatTensor k, FloatTensor v, Modality modality, int[] lengths, int[] positions,
            double[][][] expected, float scale) {
    }

    /**
     * Element b's expected rows are the reference's rows of its prefix alone; the rows of padding queries, the cache
     * rows past the prefix and the padding keys are NaN (never to be read), the modality past the prefix random.
     */
    static StepData stepData(Step s) {
        int bsz = s.batch();
        int n = s.queries();
        int hd = s.heads() * s.dimHead();
        int gd = s.kvHeads() * s.dimHead();
        int cap = s.capacity();
        float[] q = new float[bsz * n * hd];
        float[] k = new float[bsz * cap * gd];
        float[] v = new float[bsz * cap * gd];
        Arrays.fill(q, Float.NaN);
        Arrays.fill(k, Float.NaN);
        Arrays.fill(v, Float.NaN);
        byte[] mod = new byte[bsz * cap];
        int[] lengths = new int[bsz];
        int[] positions = new int[bsz * n];
        double[][][] expected = new double[bsz][n][hd];
        SplittableRandom r = new SplittableRandom(s.seed());
        float scale = 0;
        for (int b = 0; b < bsz; b++) {
            Modality m = InterleavedCases.modality(s.prefixes()[b]);
            int len = m.length();
            lengths[b] = len;
            InterleavedProblem p = InterleavedProblem.builder(m).heads(s.heads()).kvHeads(s.kvHeads())
                    .dimHead(s.dimHead()).headMapping(s.mapping()).qkNorm(s.qkNorm()).imageAttention(s.rule())
                    .build();
            scale = p.scale();
            FloatTensor qb = RandomInputs.normal(s.seed() + 10 * b + 1, 1, len, hd);
            FloatTensor kb = RandomInputs.normal(s.seed() + 10 * b + 2, 1, len, gd);
            FloatTensor vb = RandomInputs.normal(s.seed() + 10 * b + 3, 1, len, gd);
            double[][] ref = Reference64.interleavedAttention(p, qb, kb, vb)[0];
            for (int j = 0; j < cap; j++) {
                byte t = j < len ? m.get(0, j) : (byte) (1 + r.nextInt(2));
                mod[b * cap + j] = t;
                if (j < len && t != Modality.PADDING) {
                    System.arraycopy(kb.array(), j * gd, k, (b * cap + j) * gd, gd);
                    System.arraycopy(vb.array(), j * gd, v, (b * cap + j) * gd, gd);
                }
            }
            for (int i = 0; i < n; i++) {
                int pos = s.positions()[b][i];
                positions[b * n + i] = pos;
                if (pos >= 0 && pos < len && m.get(0, pos) != Modality.PADDING) {
                    System.arraycopy(qb.array(), pos * hd, q, (b * n + i) * hd, hd);
                    expected[b][i] = ref[pos];
                }
            }
        }
        return new StepData(FloatTensor.of(q, bsz, n, hd), FloatTensor.of(k, bsz, cap, gd),
                FloatTensor.of(v, bsz, cap, gd), Modality.of(mod, bsz, cap), lengths, positions, expected, scale);
    }

    /** The step on {@code kernels}, every output element first set to NaN so that an unwritten one fails. */
    static FloatTensor run(JavaKernels kernels, Step s, StepData d) {
        int bsz = s.batch();
        int n = s.queries();
        int hd = s.heads() * s.dimHead();
        int gd = s.kvHeads() * s.dimHead();
        Plan.Builder pb = Plan.builder();
        Buffer q = pb.input("q", (long) bsz * n, hd).tokensPerElement(n);
        Buffer k = pb.input("k", (long) bsz * s.capacity(), gd).tokensPerElement(s.capacity());
        Buffer v = pb.input("v", (long) bsz * s.capacity(), gd).tokensPerElement(s.capacity());
        Buffer mod = pb.modalityInput("modality", bsz, s.capacity());
        Buffer lengths = pb.intInput("keyLengths", bsz, 1);
        Buffer positions = pb.intInput("queryPositions", bsz, n);
        Buffer out = pb.output("out", (long) bsz * n, hd).tokensPerElement(n);
        AttentionOp op = AttentionOp.builder("attention").sizes(bsz, s.heads(), s.kvHeads(), n, s.capacity(),
                s.dimHead()).flags(d.scale(), true, s.qkNorm(), s.mapping()).q(q, 0).k(k, 0).v(v, 0).o(out, 0)
                .keyLengths(lengths).queryPositions(positions).build();
        pb.op(new InterleavedAttentionOp(op, mod, s.rule()));
        FloatTensor o = FloatTensor.zeros(bsz, n, hd);
        Arrays.fill(o.array(), Float.NaN);
        PlanIo io = new PlanIo().tensor(q, d.q()).tensor(k, d.k()).tensor(v, d.v()).modality(mod, d.modality())
                .ints(lengths, d.lengths()).ints(positions, d.positions()).tensor(out, o);
        new JavaMachine(List.of(), kernels).run(pb.build(), io);
        return o;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("steps")
    void decodingStepsMatchTheReferenceOnEveryKernelSetAndTheSetsAgree(Step s) {
        StepData d = stepData(s);
        FloatTensor first = null;
        for (JavaKernels k : KernelSets.all()) {
            FloatTensor out = run(k, s, d);
            double err = Reference64.relativeError(out, d.expected());
            assertTrue(err <= TOLERANCE, k.name() + ": relative error " + err);
            int hd = s.heads() * s.dimHead();
            for (int row = 0; row < s.batch() * s.queries(); row++) {
                boolean zero = Arrays.stream(d.expected()[row / s.queries()][row % s.queries()]).allMatch(x -> x == 0);
                for (int e = 0; zero && e < hd; e++) {
                    assertEquals(0f, out.get(row * hd + e), k.name() + ": row " + row + " is a padding row");
                }
            }
            if (first == null) {
                first = out;
            } else {
                double diff = JavaKernelsParityTest.relativeDifference(out.array(), first.array());
                assertTrue(diff <= TOLERANCE, k.name() + " vs scalar: relative difference " + diff);
            }
        }
    }

    @Test
    void resultsAreBitIdenticalForEveryThreadCount() {
        List<Call> full = List.of(
                call("many-items", InterleavedCases.modality("t20 i70 t15 i60 t10 i30 t5", "t3 i100 .20 i40 t47"), 8,
                        2, 40, HeadMapping.GROUPED, false, ImageAttention.SELF, 40),
                call("many-items", InterleavedCases.modality("t20 i70 t15 i60 t10 i30 t5", "t3 i100 .20 i40 t47"), 8,
                        2, 40, HeadMapping.MODULO, true, ImageAttention.BLOCK, 41));
        List<Step> steps = steps().stream().filter(s -> s.name().equals("gqa-16-4-d64")).toList();
        assertEquals(2, steps.size());
        for (JavaKernels k : KernelSets.all()) {
            Supplier<float[][]> body = () -> {
                List<float[]> results = new ArrayList<>();
                for (Call c : full) {
                    results.add(run(k, c, inputs(c)).toArray());
                }
                for (Step s : steps) {
                    results.add(run(k, s, stepData(s)).toArray());
                }
                return results.toArray(new float[0][]);
            };
            float[][] expected = JavaKernelsParityTest.onThreads(1, body);
            for (int threads : new int[] {2, 3, 5}) {
                float[][] got = JavaKernelsParityTest.onThreads(threads, body);
                for (int i = 0; i < expected.length; i++) {
                    assertArrayEquals(expected[i], got[i], k.name() + ", result " + i + ", " + threads + " threads");
                }
            }
        }
    }

    @Test
    void theFirstRowWithAnOverflowedScoreIsReported() {
        // batch element 1: head 0 of queries 5 (an image token after two text tokens) and 7 (text) has scores of
        // about 1e40 against every key of its kv head; under both rules both rows score some of those keys
        Modality m = InterleavedCases.modality("t2 i4 t3 i3 t2", "t2 i4 t3 i3 t2");
        for (ImageAttention rule : ImageAttention.values()) {
            Call c = call("overflow", m, 4, 2, 8, HeadMapping.MODULO, false, rule, 50);
            FloatTensor[] qkv = inputs(c);
            int hd = 4 * 8;
            int gd = 2 * 8;
            int n = m.length();
            for (int j = 0; j < n; j++) {
                qkv[1].set((n + j) * gd, 1e20f);  // kv head 0 of element 1
            }
            qkv[0].set((n + 7) * hd, 1e20f);
            for (JavaKernels k : KernelSets.all()) {
                assertOverflowAt(k, c, qkv, "batch element 1, query 7 ");
            }
            qkv[0].set((n + 5) * hd, 1e20f);
            for (JavaKernels k : KernelSets.all()) {
                assertOverflowAt(k, c, qkv, "batch element 1, query 5 ");
            }
            // scores of about 1e20 are finite: no error
            for (int j = 0; j < n; j++) {
                qkv[1].set((n + j) * gd, 1f);
            }
            for (JavaKernels k : KernelSets.all()) {
                FloatTensor out = run(k, c, qkv);
                assertTrue(out.firstNonFinite() < 0, k.name() + ": non-finite output at " + out.firstNonFinite());
            }
        }
    }

    @Test
    void aGroupWhoseEveryScoreIsMinusInfinityIsReportedEvenBesideAFiniteGroup() {
        for (JavaKernels k : KernelSets.all()) {
            InterleavedChecks.aGroupWhoseScoresOverflowDownwardsIsRefused(call(k), false);
            InterleavedChecks.minusInfiniteScoresBesideFiniteOnesStillCompute(call(k));
        }
    }

    /** {@link dev.mmca.backend.Backend#attention}'s interleaved plan on kernel set {@code k}. */
    private static InterleavedChecks.InterleavedCall call(JavaKernels k) {
        return (p, q, kk, v, out) -> {
            InterleavedPlan.Call call = InterleavedPlan.call(p);
            PlanIo io = new PlanIo().tensor(call.q, q).tensor(call.k, kk).tensor(call.v, v)
                    .modality(call.modality, p.modality()).tensor(call.out, out);
            new JavaMachine(List.of(), k).run(call.plan, io);
        };
    }

    private static void assertOverflowAt(JavaKernels k, Call c, FloatTensor[] qkv, String where) {
        NumericOverflowException e = assertThrows(NumericOverflowException.class, () -> run(k, c, qkv),
                k.name() + " " + c);
        assertTrue(e.getMessage().startsWith("attention: the attention scores overflowed float32 at " + where),
                k.name() + " " + c + ": " + e.getMessage());
    }
}
