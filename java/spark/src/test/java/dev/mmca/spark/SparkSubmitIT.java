package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.embed.SampleGenerator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README's {@code spark-submit} line, run as spark-submit runs it: a JVM whose class path is
 * Spark's jars only (what {@code $SPARK_HOME/jars} holds: this module's provided dependencies),
 * running {@code org.apache.spark.deploy.SparkSubmit} with the {@code -all} jar as the application
 * jar and nothing else, so a backend or native library missing from that jar fails here.
 */
class SparkSubmitIT {
    @Test
    void theExampleRunsFromTheAllJarAloneWithTheNativeCpuBackend() throws Exception {
        Path jar = Path.of(System.getProperty("mmca.spark.allJar"));
        assertTrue(Files.isRegularFile(jar), "expected the packaged -all jar at " + jar);
        String sparkClassPath = Files.readString(Path.of(System.getProperty("mmca.spark.classpathFile"))).trim();
        for (String entry : sparkClassPath.split(java.io.File.pathSeparator)) {
            assertTrue(!entry.contains("/dev/mmca/") && !entry.contains("/org/bytedeco/"),
                    "Spark's class path must not bring this project or its natives: " + entry);
        }
        Path work = Path.of(System.getProperty("mmca.spark.workDir"));
        deleteTree(work);
        Path sample = work.resolve("sample");
        MmcaConfig config = MmcaConfig.builder().dim(48).heads(4).kvHeads(2).dimHead(12).build();
        new SampleGenerator(24, 2, config, 6, 5, 9).write(sample);
        Path output = work.resolve("embedded.parquet");

        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // What Spark's launcher adds to the driver JVM: the module options and the default driver memory.
        command.addAll(Arrays.asList(System.getProperty("mmca.spark.jvmOptions").trim().split("\\s+")));
        command.add("-Xmx1g");
        // JavaCPP unpacks natives into a cache; this keeps the build out of the home directory.
        command.add("-Dorg.bytedeco.javacpp.cachedir=" + work.resolve("javacpp-cache"));
        command.addAll(List.of("-cp", sparkClassPath, "org.apache.spark.deploy.SparkSubmit"));
        // From here on, the README's line: spark-submit --master 'local[2]' --class ... <jar> --backend cpu ...
        command.addAll(List.of("--master", "local[2]", "--class", "dev.mmca.spark.EmbedExample", jar.toString(),
                "--backend", "cpu", sample.resolve(SampleGenerator.WEIGHTS_FILE).toString(),
                sample.resolve(SampleGenerator.INPUT_DIR).toString(), output.toString()));
        Path log = work.resolve("spark-submit.log");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("spark-submit did not finish in 300 s; log: " + log);
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), "spark-submit failed; its output:\n" + out);
        assertTrue(out.contains("wrote 24 rows to " + output + " (backend cpu)"), out);
        assertTrue(Files.isRegularFile(output.resolve("_SUCCESS")), "no Parquet output at " + output);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
