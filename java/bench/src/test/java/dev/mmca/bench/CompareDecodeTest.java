package dev.mmca.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.workload.Workload;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Compare on the decoding workload D1 at its small sizes, with the shortest timing settings: which rows come out,
 * with which fields, and the estimate of the forward-per-step sequence. No timing is asserted beyond being positive.
 */
class CompareDecodeTest {
    private static final String[] QUICK = {"--small", "--workloads", "D1", "--reps", "1", "--min-seconds", "0",
        "--warmup-seconds", "0", "--sequence-reps", "1"};

    private static String run(String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of(QUICK));
        args.addAll(List.of(extra));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        int status = new Compare(Compare.Options.parse(args.toArray(new String[0])), out).run();
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, status, "exit status; output:\n" + text);
        return text;
    }

    private static final Pattern FIELD = Pattern.compile("\"([a-z_]+)\":(\"[^\"]*\"|[^,}]+)");

    /** The fields of one flat JSON object line, string values unquoted. */
    private static Map<String, String> fields(String line) {
        Map<String, String> f = new LinkedHashMap<>();
        Matcher m = FIELD.matcher(line);
        while (m.find()) {
            String v = m.group(2);
            f.put(m.group(1), v.startsWith("\"") ? v.substring(1, v.length() - 1) : v);
        }
        return f;
    }

    private static List<String> ourBackends() {
        List<String> names = new ArrayList<>();
        for (Backend b : Backends.all()) {
            if (b.availability().isAvailable()) {
                names.add(b.name());
            }
        }
        return names;
    }

    @Test
    void jsonHasOneD1RowPerRunnerAndBatchWithTheDecodingFields() throws IOException {
        String text = run("--json");
        List<Map<String, String>> d1 = new ArrayList<>();
        Set<String> others = new TreeSet<>();
        for (String line : text.split("\n")) {
            assertTrue(line.startsWith("{") && line.endsWith("}"), "only JSON lines with --json: " + line);
            Map<String, String> f = fields(line);
            if (f.get("workload").equals("D1")) {
                d1.add(f);
            } else {
                others.add(f.get("workload"));
            }
        }
        assertEquals(Set.of("fma-peak", "sgemm2048", "bandwidth"), others, "--workloads D1 selects D1 alone");

        List<String> ours = ourBackends();
        Set<String> expectedRunners = new TreeSet<>(Set.of("libtorch-kv-cat", "libtorch-kv-preallocated"));
        for (String b : ours) {
            expectedRunners.add(b);
            expectedRunners.add(b + "-forward-per-step");
        }
        for (Workload w : Workload.decodingSmall()) {
            Set<String> runners = new TreeSet<>();
            for (Map<String, String> f : d1) {
                if (Integer.parseInt(f.get("batch")) != w.batch()) {
                    continue;
                }
                String runner = f.get("runner");
                runners.add(runner);
                for (String key : List.of("median_ms", "bound_ms", "sequence_ms", "min_ms")) {
                    assertTrue(Double.parseDouble(f.get(key)) > 0, runner + " " + key + " > 0: " + f);
                }
                assertEquals(Long.toString(w.stepBytes()), f.get("bytes_per_step"));
                assertEquals(Integer.toString(w.textTokens()), f.get("steps"));
                assertTrue(Double.parseDouble(f.get("rel_err_vs_forward")) <= Compare.TOLERANCE, f.toString());
                // the whole forward-per-step sequence of the small sizes fits the default budget: measured
                assertEquals("false", f.get("sequence_estimated"), f.toString());
                assertEquals("1", f.get("sequence_reps"));
                boolean isOurs = ours.contains(runner);
                for (String key : List.of("step_speedup_vs_libtorch_kv_cat", "step_speedup_vs_libtorch_kv_preallocated",
                        "sequence_speedup_vs_forward_per_step")) {
                    assertEquals(isOurs, f.containsKey(key), runner + " has " + key + " exactly when ours: " + f);
                    if (isOurs) {
                        assertTrue(Double.parseDouble(f.get(key)) > 0, f.toString());
                    }
                }
                String backend = f.get("backend");
                assertEquals(runner.startsWith("libtorch") ? "libtorch" : runner.replace("-forward-per-step", ""),
                        backend);
            }
            assertEquals(expectedRunners, runners, "runners of D1 at batch " + w.batch());
        }
        assertEquals(2 * expectedRunners.size(), d1.size(), "one row per runner and batch");
    }

    @Test
    void tableShowsTheEstimatedForwardPerStepSequenceWhenOverTheBudget() throws IOException {
        String text = run("--backends", "java", "--rerun-budget-seconds", "0");
        assertTrue(text.contains("step ms") && text.contains("bound ms") && text.contains("sequence ms"), text);
        int[] lengths = Compare.sampleLengths(17, Compare.RERUN_SAMPLE_LENGTHS);
        assertEquals(Compare.RERUN_SAMPLE_LENGTHS, lengths.length);
        long estimateNotes = text.lines().filter(l -> l.contains("java-forward-per-step: sequence estimated from the"
                + " forward at " + lengths.length + " text lengths " + java.util.Arrays.toString(lengths))).count();
        assertEquals(2, estimateNotes, "one estimate note per batch:\n" + text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("D1 ") && l.contains("java-forward-per-step")
                && l.contains(" ~")), "the estimated sequence is marked:\n" + text);
        assertFalse(text.lines().anyMatch(l -> l.startsWith("D1 ") && l.contains(" cpu")), "--backends java:\n" + text);
    }

    @Test
    void sampledLengthsSpanTheSequenceAndTheIntegralOfALinearCostIsExact() {
        assertArrayEquals(new int[] {1, 74, 147, 220, 293, 366, 439, 512}, Compare.sampleLengths(512, 8));
        assertArrayEquals(new int[] {1, 2, 3}, Compare.sampleLengths(3, 8));
        assertArrayEquals(new int[] {1}, Compare.sampleLengths(1, 8));
        int[] lengths = Compare.sampleLengths(512, 8);
        double[] ms = new double[lengths.length];
        for (int i = 0; i < ms.length; i++) {
            ms[i] = 10 + 0.5 * lengths[i];
        }
        // sum over L = 1..512 of 10 + L/2
        assertEquals(512 * 10 + 0.5 * 512 * 513 / 2, Compare.integrate(lengths, ms, 512), 1e-6);
        assertThrows(IllegalArgumentException.class, () -> Compare.integrate(new int[] {2, 512}, new double[2], 512));
        assertThrows(IllegalArgumentException.class, () -> Compare.sampleLengths(0, 8));
    }

    @Test
    void decodingOptionsAreCheckedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Compare.Options.parse(new String[] {"--sequence-reps", "0"}));
        assertTrue(e.getMessage().contains("--sequence-reps"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Compare.Options.parse(new String[] {"--rerun-budget-seconds", "-1"}));
        assertTrue(e.getMessage().contains("--rerun-budget-seconds"), e.getMessage());
        Compare.Options o = Compare.Options.parse(new String[] {"--sequence-reps", "2", "--rerun-budget-seconds", "5"});
        assertEquals(2, o.sequenceReps);
        assertEquals(5.0, o.rerunBudgetSeconds);
    }
}
