package dev.mmca.embed;

import dev.mmca.MmcaConfig;
import dev.mmca.SimpleMmca;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Measures {@code embed} end to end against the pure forward throughput of the same backend on
 * the same batches, on synthetic records of fixed shape. Not a test: run it by hand, e.g.
 * {@code java -cp ... dev.mmca.embed.EmbedBench w1 3000 6 [backend [batchTokens [rounds]]]} or
 * {@code ... EmbedBench w2 8 2}. Shapes: {@code w1} = 10 visual + 10 text tokens, dim 512, 8 heads,
 * 2 kv heads; {@code w2} = 576 + 512 tokens, dim 1024, 16 heads, 4 kv heads (dimHead 64).
 */
public final class EmbedBench {
    private EmbedBench() {
    }

    /** A benchmark shape: config and per-record token counts. */
    record Shape(String name, MmcaConfig config, int visual, int text) {
        static Shape of(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "w1" -> new Shape("w1", MmcaConfig.builder().dim(512).heads(8).kvHeads(2).build(), 10, 10);
                case "w2" -> new Shape("w2", MmcaConfig.builder().dim(1024).heads(16).kvHeads(4).build(), 576, 512);
                default -> throw new IllegalArgumentException("shape: expected w1 or w2, got '" + name + "'");
            };
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: EmbedBench w1|w2 RECORDS SHARDS [BACKEND] [BATCH_TOKENS] [ROUNDS]");
            System.exit(2);
        }
        Shape shape = Shape.of(args[0]);
        int records = Integer.parseInt(args[1]);
        int shards = Integer.parseInt(args[2]);
        String backend = args.length > 3 ? args[3] : "auto";
        int batchTokens = args.length > 4 ? Integer.parseInt(args[4]) : EmbedOptions.DEFAULT_BATCH_TOKENS;
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        Path dir = Files.createTempDirectory("mmca-embed-bench");
        try {
            System.out.println(run(shape, records, shards, backend, batchTokens, rounds, dir));
        } finally {
            deleteTree(dir);
        }
    }

    /** Runs the benchmark in {@code dir} and returns its report lines. */
    static String run(Shape shape, int records, int shards, String backend, int batchTokens, int rounds, Path dir)
            throws IOException {
        new SampleGenerator(records, shards, shape.config(), shape.visual(), shape.text(), 7, true).write(dir);
        Path weights = dir.resolve(SampleGenerator.WEIGHTS_FILE);
        Path input = dir.resolve(SampleGenerator.INPUT_DIR);
        EmbedOptions options = EmbedOptions.builder(weights, input, dir.resolve("out")).backend(backend)
                .batchTokens(batchTokens).build();
        LoadedModel loaded = ModelFiles.load(weights);
        StringBuilder out = new StringBuilder();
        try (SimpleMmca model = SimpleMmca.create(loaded.config(), loaded.weights(), backend)) {
            List<PaddedBatch> batches = batches(model, input, options);
            forward(model, batches.subList(0, Math.min(2, batches.size()))); // warm-up (JIT, buffers)
            String crc = EmbedPipeline.weightsIdentity(loaded.weights());
            EmbedReport cold = new EmbedPipeline(model, crc, options.withOutput(dir.resolve("out-0")), null).run();
            // Rounds alternate pure forward and end-to-end so that load from elsewhere hits both alike.
            double[] pure = new double[rounds];
            double[] e2e = new double[rounds];
            double[] busy = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                pure[r] = forward(model, batches);
                EmbedReport rep = new EmbedPipeline(model, crc, options.withOutput(dir.resolve("out-" + (r + 1))),
                        null).run();
                e2e[r] = rep.seconds();
                busy[r] = rep.forwardSeconds();
                deleteTree(dir.resolve("out-" + (r + 1)));
            }
            double p = median(pure);
            double e = median(e2e);
            long tokens = (long) records * (shape.visual() + shape.text());
            out.append(String.format(Locale.ROOT, "shape %s (%d+%d tokens, %s), %d records in %d shards, %d batches,"
                            + " backend %s, median of %d rounds%n", shape.name(), shape.visual(), shape.text(),
                    shape.config(), records, shards, batches.size(), model.backend().name(), rounds));
            out.append(String.format(Locale.ROOT, "pure forward: %.2f s -> %.1f records/s, %.0f tokens/s%n", p,
                    records / p, tokens / p));
            out.append(String.format(Locale.ROOT, "embed end to end: %.2f s -> %.1f records/s, %.0f tokens/s"
                    + " (forward busy %.2f s)%n", e, records / e, tokens / e, median(busy)));
            out.append(String.format(Locale.ROOT, "(first, cold end-to-end run: %.2f s -> %.1f records/s)%n",
                    cold.seconds(), cold.recordsPerSecond()));
            out.append(String.format(Locale.ROOT, "end to end / pure forward: %.1f%% (rounds: pure %s s, e2e %s s)%n",
                    100 * p / e, java.util.Arrays.toString(round2(pure)), java.util.Arrays.toString(round2(e2e))));
        }
        return out.toString();
    }

    static double median(double[] a) {
        double[] s = a.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double[] round2(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.round(a[i] * 100) / 100.0;
        }
        return r;
    }

    /** The batches the pipeline forms, padded in memory (not timed). */
    static List<PaddedBatch> batches(SimpleMmca model, Path input, EmbedOptions options) throws IOException {
        List<PaddedBatch> all = new ArrayList<>();
        int dim = model.config().dim();
        for (Path shard : EmbedPipeline.listShards(input)) {
            InputShard s = ShardReader.read(shard, dim);
            int[] vl = new int[s.size()];
            int[] tl = new int[s.size()];
            for (int i = 0; i < s.size(); i++) {
                vl[i] = s.records.get(i).visualLength();
                tl[i] = s.records.get(i).textLength();
            }
            for (int[] positions : BatchPlanner.plan(vl, tl, options.window(), options.batchTokens())) {
                all.add(PaddedBatch.build(s.records, positions, dim));
            }
        }
        return all;
    }

    /** Seconds to run every batch once, one after the other. */
    static double forward(SimpleMmca model, List<PaddedBatch> batches) {
        long t0 = System.nanoTime();
        for (PaddedBatch b : batches) {
            b.run(model);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
