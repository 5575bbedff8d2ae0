package dev.mmca.spark;

import dev.mmca.MmcaConfig;
import dev.mmca.embed.EmbedOptions;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.EmbedReport;
import dev.mmca.embed.SampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Compares Spark {@code local[N]} throughput, per token layout, with the file pipeline on the same
 * synthetic records (fixed shapes, as {@code EmbedBench}: {@code w1} = 10 + 10 tokens, dim 512;
 * {@code w2} = 576 + 512 tokens, dim 1024). Not a test: run it by hand,
 * {@code SparkBench w1|w2 RECORDS SHARDS [MASTER [BACKEND [ROUNDS [LAYOUTS]]]]}, LAYOUTS being
 * {@code nested,flat} (the default) or any of {@code nested}, {@code flat}, {@code nested-nullable} and
 * {@code flat-nullable}: the last two declare the floats nullable ({@code containsNull = true}, as data from
 * Python or from Parquet files with optional elements usually is), which costs Spark a per-element null check
 * on the way in. Besides the median wall time it reports the
 * process's CPU time per run (all threads, native ones included) and the ratio of the fastest
 * rounds, which other work on a busy machine disturbs less.
 */
public final class SparkBench {
    private SparkBench() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SparkBench w1|w2 RECORDS SHARDS [MASTER [BACKEND [ROUNDS [nested,flat]]]]");
            System.exit(2);
        }
        boolean w2 = args[0].equalsIgnoreCase("w2");
        MmcaConfig config = w2 ? MmcaConfig.builder().dim(1024).heads(16).kvHeads(4).build()
                : MmcaConfig.builder().dim(512).heads(8).kvHeads(2).build();
        int visual = w2 ? 576 : 10;
        int text = w2 ? 512 : 10;
        int records = Integer.parseInt(args[1]);
        int shards = Integer.parseInt(args[2]);
        String master = args.length > 3 ? args[3] : "local[2]";
        String backend = args.length > 4 ? args[4] : "auto";
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        List<Variant> layouts = new ArrayList<>();
        for (String l : (args.length > 6 ? args[6] : "nested,flat").split(",")) {
            layouts.add(Variant.of(l.trim()));
        }
        Path dir = Files.createTempDirectory("mmca-spark-bench");
        new SampleGenerator(records, shards, config, visual, text, 7, true).write(dir);
        Path weights = dir.resolve(SampleGenerator.WEIGHTS_FILE);
        Path input = dir.resolve(SampleGenerator.INPUT_DIR);
        long tokens = (long) records * (visual + text);

        SparkSession spark = SparkSession.builder().master(master).appName("mmca-spark-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1").getOrCreate();
        try {
            int partitions = spark.sparkContext().defaultParallelism();
            // Materialised with their lineage cut (localCheckpoint), not cache(): the rows come from the driver as a
            // local relation, whose data would stay in the plan, and Spark hashes a cached plan on every query
            // that looks it up, which made each timed run hash every float of the input on the driver.
            Dataset<Row> nested = ShardRows.read(spark, EmbedPipeline.listShards(input), partitions).localCheckpoint();
            Map<Variant, Dataset<Row>> rows = new LinkedHashMap<>();
            Map<Variant, MmcaEmbeddings> stages = new LinkedHashMap<>();
            for (Variant layout : layouts) {
                String type = layout.layout() == TokenLayout.NESTED ? "array<array<float>>" : "array<float>";
                String form = layout.layout() == TokenLayout.NESTED ? "%s" : "flatten(%s)";
                Dataset<Row> r = layout.layout() == TokenLayout.NESTED && !layout.nullable() ? nested
                        : nested.selectExpr("shard", "record", cast(form, "visual", type, layout.nullable()),
                                cast(form, "text", type, layout.nullable())).localCheckpoint();
                rows.put(layout, r);
                MmcaEmbeddings stage = MmcaEmbeddings.builder(weights.toString()).backend(backend)
                        .tokenLayout(layout.layout()).keepInputs(false).build();
                stages.put(layout, stage);
                run(stage, r); // load + warm-up over every row, as embed gets one whole warm-up run below
            }
            EmbedOptions options = EmbedOptions.builder(weights, input, dir.resolve("out-0")).backend(backend).build();
            EmbedPipeline.run(options, null); // warm-up
            // Rounds alternate Spark and embed so that load from elsewhere hits both alike.
            Map<Variant, double[]> sparkSeconds = new LinkedHashMap<>();
            Map<Variant, double[]> sparkCpu = new LinkedHashMap<>();
            for (Variant layout : layouts) {
                sparkSeconds.put(layout, new double[rounds]);
                sparkCpu.put(layout, new double[rounds]);
            }
            double[] embedSeconds = new double[rounds];
            double[] embedCpu = new double[rounds];
            String used = "";
            for (int r = 0; r < rounds; r++) {
                for (Variant layout : layouts) {
                    double cpu0 = cpuSeconds();
                    sparkSeconds.get(layout)[r] = run(stages.get(layout), rows.get(layout));
                    sparkCpu.get(layout)[r] = cpuSeconds() - cpu0;
                }
                double cpu0 = cpuSeconds();
                EmbedReport e2e = EmbedPipeline.run(options.withOutput(dir.resolve("out-" + (r + 1))), null);
                embedCpu[r] = cpuSeconds() - cpu0;
                embedSeconds[r] = e2e.seconds();
                used = e2e.backend();
            }
            double em = median(embedSeconds);
            double emCpu = median(embedCpu);
            System.out.printf(Locale.ROOT, "%s: %d records (%d tokens each) in %d partitions, %s, median of %d"
                    + " rounds%n", args[0], records, visual + text, partitions, master, rounds);
            System.out.printf(Locale.ROOT, "embed: %.2f s -> %.1f records/s, %.0f tokens/s (backend %s) %s; cpu %.2f s"
                    + " %s%n", em, records / em, tokens / em, used, Arrays.toString(round2(embedSeconds)), emCpu,
                    Arrays.toString(round2(embedCpu)));
            for (Variant layout : layouts) {
                double sp = median(sparkSeconds.get(layout));
                double spCpu = median(sparkCpu.get(layout));
                System.out.printf(Locale.ROOT, "spark %s: %.2f s -> %.1f records/s, %.0f tokens/s %s; cpu %.2f s %s%n",
                        layout.name(), sp, records / sp, tokens / sp,
                        Arrays.toString(round2(sparkSeconds.get(layout))), spCpu,
                        Arrays.toString(round2(sparkCpu.get(layout))));
                System.out.printf(Locale.ROOT, "spark %s time / embed time: %.2f (cpu time: %.2f; best rounds: %.2f)%n",
                        layout.name(), sp / em, spCpu / emCpu, min(sparkSeconds.get(layout)) / min(embedSeconds));
            }
        } finally {
            spark.stop();
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** A token layout, with its floats declared non-null (as the generated records are) or nullable. */
    private record Variant(String name, TokenLayout layout, boolean nullable) {
        static Variant of(String name) {
            boolean nullable = name.endsWith("-nullable");
            return new Variant(name, TokenLayout.of(nullable ? name.substring(0, name.length() - 9) : name), nullable);
        }
    }

    /** The select expression of one token column: the layout's form, cast to nullable floats when asked. */
    private static String cast(String form, String column, String type, boolean nullable) {
        String value = String.format(Locale.ROOT, form, column);
        return (nullable ? "cast(" + value + " as " + type + ")" : value) + " as " + column;
    }

    /** Seconds to embed {@code rows} and discard the result (the noop sink still computes every row). */
    private static double run(MmcaEmbeddings stage, Dataset<Row> rows) {
        long t0 = System.nanoTime();
        stage.transform(rows).write().format("noop").mode("overwrite").save();
        return (System.nanoTime() - t0) / 1e9;
    }

    /** CPU time of this process so far, every thread included. */
    private static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime() / 1e9;
    }

    /** The fastest round: the one least disturbed by other work on the machine. */
    private static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double[] round2(double[] a) {
        double[] r = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            r[i] = Math.round(a[i] * 100) / 100.0;
        }
        return r;
    }
}
