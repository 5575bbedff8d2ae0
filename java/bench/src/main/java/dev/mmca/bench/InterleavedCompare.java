package dev.mmca.bench;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.Mask;
import dev.mmca.Modality;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.backend.InterleavedProblem;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Interleaved attention (SPEC "Interleaved MMCA") three ways, on the same inputs, alternately, in one JVM,
 * checking on the way that all give the same numbers:
 * <ul>
 *   <li>{@code fused}: {@link Backend#attention(InterleavedProblem, FloatTensor, FloatTensor, FloatTensor,
 *   FloatTensor)}, one pass with two softmaxes per row;</li>
 *   <li>{@code two calls}: the same result from our plain attention, as one would write it without the fused
 *   operation: a causal call over the text keys for every real query, a causal call over the image keys for the
 *   text queries (the query mask skips the image queries, whose image group under rule self is their own value),
 *   and a pass that adds the two outputs and each image query's own value;</li>
 *   <li>{@code libtorch}: the paper's formula as a PyTorch user writes it, two
 *   {@code scaled_dot_product_attention} calls with the boolean masks of the text and the image group
 *   ({@code [B, 1, N, N]}, {@code enable_gqa}), each {@code nan_to_num} (a query with an empty group gets NaN from
 *   SDPA; the group adds zero), summed.</li>
 * </ul>
 *
 * <pre>
 * mvn -B -q -pl java/bench -am -Pinterleaved package -DskipTests -Dinterleaved.args="--threads 2"
 * </pre>
 * Options: {@code --small} (a short sequence, for tests), {@code --threads N} (every runner; default every core),
 * {@code --backends cpu,java} (default every available one), {@code --reps N} (timed calls per runner, default 10),
 * {@code --min-seconds S} (per runner, default 2). Exit status 1 when outputs differ beyond {@value #TOLERANCE}.
 */
public final class InterleavedCompare {
    /** Largest accepted relative error between two runners' outputs. */
    public static final double TOLERANCE = 1e-4;

    /**
     * The benchmark shape: 2048 tokens, three images of 576 between 320 text tokens (a prompt, two questions, an
     * answer), heads as workload A1. {@code --rows} takes others, e.g. {@code "t64 i576 t64 i576 t64 i576 t128"},
     * where every run starts on a 64-key tile.
     */
    public static final String[] STANDARD_ROWS = {"t35 i576 t40 i576 t40 i576 t205"};
    /** The same structure at a size the tests run in milliseconds. */
    public static final String[] SMALL_ROWS = {"t6 i20 t5 i20 t4 i20 t9", "i30 t10 .10 i14 t20"};

    private InterleavedCompare() {
    }

    /** The problem under rule self ({@link #problem(String[], ImageAttention)}). */
    public static InterleavedProblem problem(String[] rows) {
        return problem(rows, ImageAttention.SELF);
    }

    /** The problem: rows of runs ({@code t64 i576 ...}), heads 16, kv heads 4, head width 64, grouped mapping. */
    public static InterleavedProblem problem(String[] rows, ImageAttention rule) {
        String[] full = new String[rows.length];
        for (int r = 0; r < rows.length; r++) {
            StringBuilder sb = new StringBuilder();
            for (String part : rows[r].split("\\s+")) {
                sb.append(String.valueOf(part.charAt(0)).repeat(Integer.parseInt(part.substring(1))));
            }
            full[r] = sb.toString();
        }
        return InterleavedProblem.builder(Modality.parse(full)).heads(16).kvHeads(4).dimHead(64)
                .headMapping(HeadMapping.GROUPED).imageAttention(rule).build();
    }

    /** Seeded standard-normal q, k, v of {@code p}. */
    public static FloatTensor[] inputs(InterleavedProblem p, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int b = p.batch();
        int n = p.tokens();
        return new FloatTensor[] {normal(r, b, n, p.heads() * p.dimHead()), normal(r, b, n, p.kvHeads() * p.dimHead()),
            normal(r, b, n, p.kvHeads() * p.dimHead())};
    }

    private static FloatTensor normal(SplittableRandom r, int... shape) {
        FloatTensor t = FloatTensor.zeros(shape);
        float[] a = t.array();
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble()));
        }
        return t;
    }

    /** The fused operation on one of our backends. */
    public static final class Fused implements Runner {
        private final Backend backend;
        private final InterleavedProblem p;
        private final FloatTensor[] in;
        private final FloatTensor out;

        public Fused(Backend backend, InterleavedProblem p, FloatTensor[] in) {
            this.backend = backend;
            this.p = p;
            this.in = in;
            this.out = FloatTensor.zeros(p.batch(), p.tokens(), p.heads() * p.dimHead());
        }

        @Override public String name() { return "fused " + backend.name(); }

        Backend backend() { return backend; }
        @Override public void run() { backend.attention(p, in[0], in[1], in[2], out); }
        @Override public float[] result() { return out.toArray(); }
        @Override public void close() { }
    }

    /**
     * Two plain attention calls of one of our backends, and the pass that combines them (rule self). With
     * {@code skipImageQueries} the image call's query mask holds the text queries only (the image queries' image
     * group is their own value); without, it runs over every real query and the combining pass drops those rows, as
     * a caller who does not single the image queries out computes it.
     */
    public static final class TwoCalls implements Runner {
        private final boolean skipImageQueries;
        private final Backend backend;
        private final InterleavedProblem p;
        private final FloatTensor[] in;
        private final AttentionProblem text;
        private final AttentionProblem image;
        private final FloatTensor outText;
        private final FloatTensor outImage;
        private final float[] out;

        public TwoCalls(Backend backend, InterleavedProblem p, FloatTensor[] in, boolean skipImageQueries) {
            this.skipImageQueries = skipImageQueries;
            if (p.imageAttention() != ImageAttention.SELF) {
                throw new IllegalArgumentException("imageAttention: two plain calls express rule self only, got "
                        + p.imageAttention());
            }
            this.backend = backend;
            this.p = p;
            this.in = in;
            Modality m = p.modality();
            int b = p.batch();
            int n = p.tokens();
            boolean[] isText = new boolean[b * n];
            boolean[] isImage = new boolean[b * n];
            boolean[] isReal = new boolean[b * n];
            for (int e = 0; e < b; e++) {
                for (int i = 0; i < n; i++) {
                    isText[e * n + i] = m.get(e, i) == Modality.TEXT;
                    isImage[e * n + i] = m.get(e, i) == Modality.IMAGE;
                    isReal[e * n + i] = m.get(e, i) != Modality.PADDING;
                }
            }
            AttentionProblem.Builder common = AttentionProblem.builder().batch(b).heads(p.heads()).kvHeads(p.kvHeads())
                    .queries(n).keys(n).dimHead(p.dimHead()).scale(p.scale()).qkNorm(p.qkNorm()).causal(true)
                    .headMapping(p.headMapping());
            // every real query over the text keys before it; the text queries over the image keys before them
            this.text = common.keyMask(Mask.of(isText, b, n)).queryMask(Mask.of(isReal, b, n)).build();
            this.image = common.keyMask(Mask.of(isImage, b, n)).queryMask(Mask.of(skipImageQueries ? isText : isReal, b,
                    n)).build();
            this.outText = FloatTensor.zeros(b, n, p.heads() * p.dimHead());
            this.outImage = FloatTensor.zeros(b, n, p.heads() * p.dimHead());
            this.out = new float[b * n * p.heads() * p.dimHead()];
        }

        @Override public String name() { return (skipImageQueries ? "two calls " : "two calls all q ") + backend.name(); }

        @Override
        public void run() {
            backend.attention(text, in[0], in[1], in[2], outText);
            backend.attention(image, in[0], in[1], in[2], outImage);
            int d = p.dimHead();
            int hd = p.heads() * d;
            int gd = p.kvHeads() * d;
            float[] t = outText.array();
            float[] im = outImage.array();
            float[] v = in[2].array();
            Modality m = p.modality();
            for (int e = 0; e < p.batch(); e++) {
                for (int i = 0; i < p.tokens(); i++) {
                    int row = e * p.tokens() + i;
                    boolean self = m.get(e, i) == Modality.IMAGE;
                    for (int h = 0; h < p.heads(); h++) {
                        int g = p.headMapping().kvHeadOf(h, p.heads(), p.kvHeads());
                        for (int c = 0; c < d; c++) {
                            int at = row * hd + h * d + c;
                            // rule self: an image token's image group is itself, weight 1 on its own value
                            out[at] = t[at] + (self ? v[row * gd + g * d + c] : im[at]);
                        }
                    }
                }
            }
        }

        @Override public float[] result() { return out.clone(); }
        @Override public void close() { }
    }

    /** The paper's formula in libtorch: two masked SDPA calls, summed. */
    public static final class TorchTwoSdpa implements Runner {
        private final InterleavedProblem p;
        private final Tensor q;
        private final Tensor k;
        private final Tensor v;
        private final Tensor maskText;
        private final Tensor maskImage;
        private final DoubleOptional scale;
        private Tensor last;

        public TorchTwoSdpa(InterleavedProblem p, FloatTensor[] in) {
            TorchPeer.load();
            this.p = p;
            int b = p.batch();
            int n = p.tokens();
            int d = p.dimHead();
            this.q = TorchPeer.copyOf(in[0]).view(b, n, p.heads(), d).transpose(1, 2).contiguous();
            this.k = TorchPeer.copyOf(in[1]).view(b, n, p.kvHeads(), d).transpose(1, 2).contiguous();
            this.v = TorchPeer.copyOf(in[2]).view(b, n, p.kvHeads(), d).transpose(1, 2).contiguous();
            float[] mt = new float[b * n * n];
            float[] mi = new float[b * n * n];
            Modality m = p.modality();
            boolean block = p.imageAttention() == ImageAttention.BLOCK;
            for (int e = 0; e < b; e++) {
                int[] run = new int[n];  // text tokens up to j: two image tokens of one image have the same count
                for (int j = 0, c = 0; j < n; j++) {
                    c += m.get(e, j) == Modality.TEXT ? 1 : 0;
                    run[j] = c;
                }
                for (int i = 0; i < n; i++) {
                    byte qi = m.get(e, i);
                    for (int j = 0; j < n; j++) {
                        byte kj = m.get(e, j);
                        int at = (e * n + i) * n + j;
                        boolean causal = j <= i;
                        if (qi == Modality.TEXT) {
                            mt[at] = causal && kj == Modality.TEXT ? 1 : 0;
                            mi[at] = causal && kj == Modality.IMAGE ? 1 : 0;
                        } else if (qi == Modality.IMAGE && !block) {
                            mt[at] = causal && kj == Modality.TEXT ? 1 : 0;
                            mi[at] = j == i ? 1 : 0;
                        } else if (qi == Modality.IMAGE) {
                            mi[at] = kj == Modality.IMAGE && run[j] == run[i] ? 1 : 0;
                        }
                    }
                }
            }
            this.maskText = TorchPeer.copyOf(FloatTensor.of(mt, b, 1, n, n)).to(torch.ScalarType.Bool);
            this.maskImage = TorchPeer.copyOf(FloatTensor.of(mi, b, 1, n, n)).to(torch.ScalarType.Bool);
            this.scale = new DoubleOptional(p.scale());
        }

        @Override public int settleMillis() { return TorchPeer.SETTLE_MS; }
        @Override public String name() { return "libtorch 2x SDPA"; }

        @Override
        @SuppressWarnings("try") // the scope and the guard act by existing
        public void run() {
            if (last != null) {
                last.close();
                last = null;
            }
            try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
                Tensor a = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(maskText), 0.0, false, scale,
                        true).nan_to_num();
                Tensor b = torch.scaled_dot_product_attention(q, k, v, new TensorOptional(maskImage), 0.0, false, scale,
                        true).nan_to_num();
                last = a.add(b).transpose(1, 2).reshape(p.batch(), p.tokens(), (long) p.heads() * p.dimHead());
                last.retainReference();
            }
        }

        @Override
        public float[] result() {
            return TorchPeer.toArray(last);
        }

        @Override
        public void close() {
            if (last != null) {
                last.close();
            }
            for (Tensor t : new Tensor[] {q, k, v, maskText, maskImage}) {
                t.close();
            }
            scale.close();
        }
    }

    /** Options of the command line. */
    static final class Options {
        boolean small;
        int threads;
        List<String> backends;
        int reps = 10;
        double minSeconds = 2;
        ImageAttention rule = ImageAttention.SELF;
        String[] rows;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--small" -> o.small = true;
                    case "--threads" -> o.threads = positive(args, ++i);
                    case "--reps" -> o.reps = positive(args, ++i);
                    case "--backends" -> o.backends = Arrays.asList(value(args, ++i).split(","));
                    case "--min-seconds" -> o.minSeconds = Double.parseDouble(value(args, ++i));
                    case "--rule" -> o.rule = ImageAttention.parse(value(args, ++i));
                    case "--rows" -> o.rows = value(args, ++i).split(",");
                    default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'");
                }
            }
            return o;
        }

        private static String value(String[] args, int i) {
            if (i >= args.length) {
                throw new IllegalArgumentException(args[i - 1] + ": expected a value, got the end of the arguments");
            }
            return args[i];
        }

        private static int positive(String[] args, int i) {
            String s = value(args, i);
            try {
                int v = Integer.parseInt(s);
                if (v > 0) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new IllegalArgumentException(args[i - 1] + ": expected a positive integer, got '" + s + "'");
        }
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("interleaved-compare: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.exit(run(o, System.out));
    }

    /** Builds the runners, checks they agree, times them alternately and prints the table; returns the status. */
    static int run(Options o, PrintStream out) {
        int threads = o.threads > 0 ? o.threads : Runtime.getRuntime().availableProcessors();
        System.setProperty(Compare.JAVA_THREADS_PROPERTY, Integer.toString(threads));
        System.setProperty(Compare.CPU_THREADS_PROPERTY, Integer.toString(threads));
        TorchPeer.setThreads(threads);
        InterleavedProblem p = problem(o.rows != null ? o.rows : o.small ? SMALL_ROWS : STANDARD_ROWS, o.rule);
        FloatTensor[] in = inputs(p, 42);
        MachineInfo.detect().lines().forEach(out::println);
        out.println("Threads: " + threads + "; libtorch " + TorchPeer.PRESETS_VERSION);
        out.println("Rows: " + String.join(", ", o.rows != null ? o.rows : o.small ? SMALL_ROWS : STANDARD_ROWS));
        out.println("Problem: " + p + ", " + String.format(Locale.ROOT, "%.2f", p.flops() / 1e9)
                + " GFLOP (4 D per (query, key, head) of a group)");
        String loadBefore = MachineInfo.loadAverage();
        List<Runner> runners = new ArrayList<>();
        try {
            for (Backend b : Backends.all()) {
                if ((o.backends == null || o.backends.contains(b.name())) && b.availability().isAvailable()
                        && b.supports(p).isSupported()) {
                    runners.add(new Fused(b, p, in));
                    if (o.rule == ImageAttention.SELF) {  // rule block has per-query key windows: not two plain calls
                        runners.add(new TwoCalls(b, p, in, true));
                        runners.add(new TwoCalls(b, p, in, false));
                    }
                }
            }
            runners.add(new TorchTwoSdpa(p, in));
            for (Runner r : runners) {
                r.run();
            }
            float[] expected = runners.get(runners.size() - 1).result();
            int status = 0;
            double[] errors = new double[runners.size()];
            for (int i = 0; i < runners.size(); i++) {
                errors[i] = RelativeError.of(runners.get(i).result(), expected);
                if (!(errors[i] <= TOLERANCE)) {
                    System.err.println("interleaved-compare: " + runners.get(i).name() + " differs from libtorch by "
                            + errors[i]);
                    status = 1;
                }
            }
            double[][] times = time(runners, o.reps, o.minSeconds);
            String loadAfter = MachineInfo.loadAverage();
            out.printf(Locale.ROOT, "%-18s %11s %9s %16s %17s%n", "runner", "median ms", "GFLOP/s",
                    "time / fused cpu", "rel.err vs torch");
            double fusedCpu = Double.NaN;
            for (int i = 0; i < runners.size(); i++) {
                if (runners.get(i).name().equals("fused cpu")) {
                    fusedCpu = median(times[i]);
                }
            }
            for (int i = 0; i < runners.size(); i++) {
                double ms = median(times[i]);
                out.printf(Locale.ROOT, "%-18s %11.2f %9.1f %16.2f %17.2e%n", runners.get(i).name(), ms,
                        p.flops() / ms / 1e6, fusedCpu > 0 ? ms / fusedCpu : Double.NaN, errors[i]);
            }
            for (int i = 0; i < runners.size(); i++) {
                if (runners.get(i) instanceof Fused f) {
                    for (int j = 0; j < runners.size(); j++) {
                        if (j != i && runners.get(j).name().endsWith(" " + f.backend().name())
                                || runners.get(j) instanceof TorchTwoSdpa) {
                            out.printf(Locale.ROOT, "%s is %.2fx as fast as %s%n", f.name(),
                                    median(times[j]) / median(times[i]), runners.get(j).name());
                        }
                    }
                }
            }
            out.println("Load average (1, 5, 15 min) before: " + loadBefore + ", after: " + loadAfter);
            return status;
        } finally {
            for (Runner r : runners) {
                r.close();
            }
        }
    }

    /**
     * Warm-up, then rounds of one call per runner (the start rotating) until each has reps and minSeconds; after each
     * call the machine idles for the runner's {@link Runner#settleMillis()} (libtorch's), untimed.
     */
    static double[][] time(List<Runner> runners, int reps, double minSeconds) {
        int n = runners.size();
        for (int w = 0; w < 2; w++) {
            for (Runner r : runners) {
                r.run();
                Runner.settle(r);
            }
        }
        List<List<Double>> times = new ArrayList<>();
        double[] total = new double[n];
        for (int i = 0; i < n; i++) {
            times.add(new ArrayList<>());
        }
        for (int round = 0; round < 10000; round++) {
            boolean done = true;
            for (int i = 0; i < n; i++) {
                done &= times.get(i).size() >= reps && total[i] >= minSeconds * 1e3;
            }
            if (done) {
                break;
            }
            for (int j = 0; j < n; j++) {
                int i = (j + round) % n;
                long t0 = System.nanoTime();
                runners.get(i).run();
                double ms = (System.nanoTime() - t0) / 1e6;
                times.get(i).add(ms);
                total[i] += ms;
                Runner.settle(runners.get(i));
            }
        }
        double[][] out = new double[n][];
        for (int i = 0; i < n; i++) {
            out[i] = times.get(i).stream().mapToDouble(Double::doubleValue).toArray();
        }
        return out;
    }

    static double median(double[] t) {
        double[] s = t.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
