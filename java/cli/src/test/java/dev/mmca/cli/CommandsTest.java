package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CommandsTest {
    @Test
    void demoPrintsBackendShapesChecksumAndTime() {
        CommandTestSupport.Result r = CommandTestSupport.run("demo", "--backend", "java");
        assertEquals(0, r.exitCode, r.toString());
        assertTrue(r.out.contains("backend:  java"), r.out);
        assertTrue(r.out.contains("output:   visual [32, 10, 512], text [32, 10, 512]"), r.out);
        assertTrue(Pattern.compile("checksum: visual sum=\\S+ abs=\\S+; text sum=\\S+ abs=\\S+").matcher(r.out).find(),
                r.out);
        assertTrue(r.out.contains(" ms first call"), r.out);
    }

    @Test
    void demoIsReproducible() {
        String a = checksumLine(CommandTestSupport.run("demo", "--backend", "java").out);
        String b = checksumLine(CommandTestSupport.run("demo", "--backend", "java").out);
        assertEquals(a, b);
        String other = checksumLine(CommandTestSupport.run("demo", "--backend", "java", "--seed", "5").out);
        assertTrue(!a.equals(other), "a different seed gives different numbers");
    }

    private static String checksumLine(String out) {
        Matcher m = Pattern.compile("checksum:.*").matcher(out);
        assertTrue(m.find(), out);
        return m.group();
    }

    @Test
    void infoListsEveryBackendWithItsAvailability() {
        CommandTestSupport.Result r = CommandTestSupport.run("info");
        assertEquals(0, r.exitCode, r.toString());
        assertTrue(r.out.contains("java:"), r.out);
        assertTrue(Pattern.compile("java\\s+priority\\s+0\\s+available").matcher(r.out).find(), r.out);
        // which kernels the java backend runs, and why
        assertTrue(Pattern.compile("java kernels: (vector|scalar) \\(.+\\)").matcher(r.out).find(), r.out);
    }

    @Test
    void benchJsonPrintsOneObjectPerMeasurement() {
        CommandTestSupport.Result r = CommandTestSupport.run("bench", "--backend", "java", "--workloads", "W1",
                "--min-time", "0", "--warmup", "0", "--json");
        assertEquals(0, r.exitCode, r.toString());
        String[] lines = r.out.trim().split("\n");
        assertEquals(2, lines.length, r.out);
        // the machine's FMA peak first (the yardstick), then the workload as a fraction of it
        assertTrue(lines[0].matches("\\{\"workload\":\"fma-peak\",\"backend\":\"native\",\"gflops\":[0-9.]+}"),
                lines[0]);
        assertTrue(lines[1].matches("\\{\"workload\":\"W1\",\"backend\":\"java\",\"median_ms\":[0-9.]+,"
                + "\"gflops\":[0-9.]+,\"fraction_of_peak\":[0-9.]+}"), lines[1]);
    }

    @Test
    void benchD1ReportsTheStepTheSequenceAndTheBandwidthBoundAtBothBatchSizes() {
        CommandTestSupport.Result r = CommandTestSupport.run("bench", "--backend", "java", "--workloads", "D1",
                "--small", "--min-time", "0", "--warmup", "0", "--json");
        assertEquals(0, r.exitCode, r.toString());
        String[] lines = r.out.trim().split("\n");
        assertEquals(4, lines.length, r.out);
        assertTrue(lines[1].matches("\\{\"workload\":\"bandwidth\",\"backend\":\"native\",\"gbs\":[0-9.]+}"), lines[1]);
        int[] batches = {1, 3};
        for (int i = 0; i < 2; i++) {
            String row = lines[2 + i];
            assertTrue(row.matches("\\{\"workload\":\"D1\",\"backend\":\"java\",\"batch\":" + batches[i]
                    + ",\"median_ms\":[0-9.]+,\"bound_ms\":[0-9.]+,\"bandwidth_gbs\":[0-9.]+,\"bytes_per_step\":[0-9]+,"
                    + "\"sequence_ms\":[0-9.]+,\"steps\":17,\"gflops\":[0-9.]+,\"fraction_of_peak\":[0-9.]+}"), row);
            double median = Double.parseDouble(row.replaceAll(".*\"median_ms\":([0-9.]+).*", "$1"));
            double sequence = Double.parseDouble(row.replaceAll(".*\"sequence_ms\":([0-9.]+).*", "$1"));
            assertTrue(median > 0 && sequence > 0, row);
        }
        CommandTestSupport.Result text = CommandTestSupport.run("bench", "--backend", "java", "--workloads", "D1",
                "--small", "--min-time", "0", "--warmup", "0");
        assertEquals(0, text.exitCode, text.toString());
        assertTrue(text.out.contains("D1 b=3") && text.out.contains("bandwidth bound"), text.out);
    }

    @Test
    void unknownBackendIsAUsageErrorNamingTheChoices() {
        CommandTestSupport.Result r = CommandTestSupport.run("demo", "--backend", "tpu");
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("backend: expected one of") && r.err.contains("'tpu'"), r.err);
    }

    @Test
    void unknownWorkloadIsAnError() {
        CommandTestSupport.Result r = CommandTestSupport.run("bench", "--backend", "java", "--workloads", "W9");
        assertEquals(1, r.exitCode, r.toString());
        assertTrue(r.err.contains("--workloads: expected"), r.err);
    }
}
