package dev.mmca.spark;

import dev.mmca.MmcaConfig;
import dev.mmca.embed.EmbedOptions;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.EmbedReport;
import dev.mmca.embed.SampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Compares Spark {@code local[N]} throughput with the file pipeline on the same synthetic records
 * (fixed shape, see {@code EmbedBench}). Not a test: run it by hand,
 * {@code SparkBench w1|w2 RECORDS SHARDS [local[2]] [BACKEND] [ROUNDS]}.
 */
public final class SparkBench {
    private SparkBench() {
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SparkBench w1|w2 RECORDS SHARDS [MASTER] [BACKEND] [ROUNDS]");
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
        Path dir = Files.createTempDirectory("mmca-spark-bench");
        new SampleGenerator(records, shards, config, visual, text, 7, true).write(dir);
        Path weights = dir.resolve(SampleGenerator.WEIGHTS_FILE);
        Path input = dir.resolve(SampleGenerator.INPUT_DIR);
        long tokens = (long) records * (visual + text);

        SparkSession spark = SparkSession.builder().master(master).appName("mmca-spark-bench")
                .config("spark.ui.enabled", "false").config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.driver.host", "127.0.0.1").config("spark.driver.memory", "4g").getOrCreate();
        try {
            int partitions = spark.sparkContext().defaultParallelism();
            Dataset<Row> rows = ShardRows.read(spark, EmbedPipeline.listShards(input), partitions).cache();
            rows.count();
            MmcaEmbeddings embed = MmcaEmbeddings.builder(weights.toString()).backend(backend)
                    .keepTokenColumns(false).build();
            embed.transform(rows.limit(2)).write().format("noop").mode("overwrite").save(); // load + warm-up
            EmbedOptions options = EmbedOptions.builder(weights, input, dir.resolve("out-0")).backend(backend).build();
            EmbedPipeline.run(options, null); // warm-up
            // Rounds alternate Spark and embed so that load from elsewhere hits both alike.
            double[] sparkSeconds = new double[rounds];
            double[] embedSeconds = new double[rounds];
            String used = "";
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                embed.transform(rows).write().format("noop").mode("overwrite").save();
                sparkSeconds[r] = (System.nanoTime() - t0) / 1e9;
                EmbedReport e2e = EmbedPipeline.run(options.withOutput(dir.resolve("out-" + (r + 1))), null);
                embedSeconds[r] = e2e.seconds();
                used = e2e.backend();
            }
            double sp = median(sparkSeconds);
            double em = median(embedSeconds);
            System.out.printf(Locale.ROOT, "%s: %d records (%d tokens each) in %d partitions, %s, median of %d rounds%n",
                    args[0], records, visual + text, partitions, master, rounds);
            System.out.printf(Locale.ROOT, "spark: %.2f s -> %.1f records/s, %.0f tokens/s %s%n", sp, records / sp,
                    tokens / sp, java.util.Arrays.toString(sparkSeconds));
            System.out.printf(Locale.ROOT, "embed: %.2f s -> %.1f records/s, %.0f tokens/s (backend %s) %s%n", em,
                    records / em, tokens / em, used, java.util.Arrays.toString(embedSeconds));
            System.out.printf(Locale.ROOT, "spark time / embed time: %.2f%n", sp / em);
        } finally {
            spark.stop();
            try (java.util.stream.Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
