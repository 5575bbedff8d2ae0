package dev.mmca.spark;

import dev.mmca.MmcaConfig;
import dev.mmca.embed.EmbedPipeline;
import dev.mmca.embed.SampleGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;

/**
 * Embeds records with Spark and writes them as Parquet.
 *
 * <pre>
 * EmbedExample [--backend NAME]                        # a generated sample, in local[*]
 * EmbedExample [--backend NAME] WEIGHTS INPUT OUTPUT   # INPUT: a directory of .safetensors shards, or
 *                                                      # Parquet with visual and text array&lt;array&lt;float&gt;&gt;
 * </pre>
 *
 * The backend is {@code auto} unless named (e.g. {@code cpu}, which fails when it cannot run).
 *
 * Runs in {@code local[*]} unless a master is configured (e.g. by {@code spark-submit --master}).
 */
public final class EmbedExample {
    private EmbedExample() {
    }

    public static void main(String[] args) throws Exception {
        String backend = "auto";
        if (args.length >= 2 && args[0].equals("--backend")) {
            backend = args[1];
            args = java.util.Arrays.copyOfRange(args, 2, args.length);
        }
        if (args.length != 0 && args.length != 3) {
            System.err.println("usage: EmbedExample [--backend NAME] [WEIGHTS INPUT OUTPUT]");
            System.exit(2);
        }
        // Strings, not Paths: the weights, input and output may be Hadoop URIs (hdfs://, s3a://bucket/...).
        String weights;
        String input;
        String output;
        if (args.length == 0) {
            Path dir = Files.createTempDirectory("mmca-spark-example");
            MmcaConfig config = MmcaConfig.builder().dim(64).heads(4).kvHeads(2).dimHead(16).build();
            new SampleGenerator(64, 4, config, 16, 12, 42).write(dir);
            weights = dir.resolve(SampleGenerator.WEIGHTS_FILE).toString();
            input = dir.resolve(SampleGenerator.INPUT_DIR).toString();
            output = dir.resolve("output.parquet").toString();
            System.out.println("generated a sample in " + dir);
        } else {
            weights = args[0];
            input = args[1];
            output = args[2];
        }
        SparkSession.Builder builder = SparkSession.builder().appName("mmca-embed-example");
        if (!new SparkConf().contains("spark.master")) {
            builder.master("local[*]");
        }
        SparkSession spark = builder.getOrCreate();
        try {
            Dataset<Row> rows;
            boolean localDirectory = WeightsLocation.scheme(input) == null && Files.isDirectory(Path.of(input));
            List<Path> shards = localDirectory ? EmbedPipeline.listShards(Path.of(input)) : List.of();
            if (!shards.isEmpty()) {
                rows = ShardRows.read(spark, shards, spark.sparkContext().defaultParallelism());
            } else {
                rows = spark.read().parquet(input);
            }
            Dataset<Row> embedded = MmcaEmbeddings.builder(weights).backend(backend).build().transform(rows);
            embedded.write().mode(SaveMode.Overwrite).parquet(output);
            Dataset<Row> back = spark.read().parquet(output);
            System.out.println("wrote " + back.count() + " rows to " + output + " (backend " + backend + ")");
            back.selectExpr("size(visual_out) as visual_tokens", "size(text_out) as text_tokens",
                    "slice(text_out[0], 1, 4) as first_text_token_head").show(5, false);
        } finally {
            spark.stop();
        }
    }
}
