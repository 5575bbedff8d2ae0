package dev.mmca.bench;

import dev.mmca.workload.Workload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResultsPageTest {
    private static final Workload W = Workload.attention("A2", 4, 16, 4, 512, 576, 64, false);

    private static List<Measurement> results() {
        return List.of(
                new Measurement("sgemm2048", "openblas", 2.0 * 2048 * 2048 * 2048, new double[] {200}, Double.NaN),
                new Measurement("A2", "java", W.flops(), new double[] {30, 20, 10}, 2e-7),
                new Measurement("A2", "libtorch", W.flops(), new double[] {5}, Double.NaN),
                new Measurement("A2", "onnxruntime", W.flops(), new double[] {40}, 3e-7));
    }

    @Test
    void regeneratingReplacesOnlyTheMarkedSectionAndWritesAPng(@TempDir Path dir) throws IOException {
        Path page = dir.resolve(ResultsPage.PAGE);
        Files.writeString(page, "# Title\n\nintro\n\n" + ResultsPage.BEGIN + "\nold table\n" + ResultsPage.END
                + "\n\n## Analysis\nkept\n");
        ResultsPage.write(dir, MachineInfo.detect(), 2, List.of(W), results(), "1 1 1 / 1 1 1", 500.0);
        String text = Files.readString(page);
        assertTrue(text.startsWith("# Title\n\nintro\n\n" + ResultsPage.BEGIN), text);
        assertTrue(text.endsWith(ResultsPage.END + "\n\n## Analysis\nkept\n"), text);
        assertTrue(!text.contains("old table"), text);
        // java median 20 ms vs libtorch 5 ms (4x faster) and onnxruntime 40 ms (2x slower); A2 is 4.83 GFLOP,
        // 241.6 GFLOP/s at 20 ms, 48% of a 500 GFLOP/s peak
        assertTrue(text.contains("| A2 |") && text.contains("| java | 20.00 |"), text);
        assertTrue(text.contains("| 241.6 | 48% | 4.00 | 0.50 |"), text);
        assertTrue(text.contains("FMA peak measured in the same run: 500.0 GFLOP/s"), text);
        byte[] png = Files.readAllBytes(dir.resolve(ResultsPage.CHART));
        assertTrue(png.length > 1000, "chart written");
        assertEquals((byte) 0x89, png[0]);
        assertEquals((byte) 'P', png[1]);
    }

    @Test
    void aPageWithoutMarkersIsNotOverwritten(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve(ResultsPage.PAGE), "hand-written\n");
        assertThrows(IOException.class, () -> ResultsPage.write(dir, MachineInfo.detect(), 2, List.of(W), results(),
                "1 1 1 / 1 1 1", 500.0));
        assertEquals("hand-written\n", Files.readString(dir.resolve(ResultsPage.PAGE)));
    }

    private static List<DecodeMeasurement> decodeResults(Workload d1) {
        double bound = 1.5;
        return List.of(
                new DecodeMeasurement(d1, "cpu", "cpu", DecodeMeasurement.Role.SESSION, new double[] {4, 2, 3},
                        new double[] {1000}, Double.NaN, new int[0], bound, 3e-7),
                new DecodeMeasurement(d1, "libtorch-kv-cat", "libtorch", DecodeMeasurement.Role.LIBTORCH_KV_CACHE,
                        new double[] {6}, new double[] {3000}, Double.NaN, new int[0], bound, 2e-7),
                new DecodeMeasurement(d1, "libtorch-kv-preallocated", "libtorch",
                        DecodeMeasurement.Role.LIBTORCH_KV_CACHE, new double[] {4.5}, new double[] {2000}, Double.NaN,
                        new int[0], bound, 2e-7),
                new DecodeMeasurement(d1, "cpu-forward-per-step", "cpu", DecodeMeasurement.Role.FORWARD_PER_STEP,
                        new double[] {60}, new double[0], 25000, new int[] {1, 512}, bound, 4e-7));
    }

    @Test
    void decodingGetsItsOwnTableWithBoundsSpeedUpsAndTheEstimateLabelled(@TempDir Path dir) throws IOException {
        Workload d1 = Workload.decoding().get(0);
        Path page = dir.resolve(ResultsPage.PAGE);
        Files.writeString(page, "# Title\n\n" + ResultsPage.BEGIN + "\nold\n" + ResultsPage.END + "\n");
        ResultsPage.write(dir, MachineInfo.detect(), 2, List.of(W, d1), results(), "1 1 1 / 1 1 1", 500.0,
                decodeResults(d1), 14.0);
        String text = Files.readString(page);
        // the main table is as before
        assertTrue(text.contains("| 241.6 | 48% | 4.00 | 0.50 |"), text);
        assertTrue(text.contains("### Decoding (D1)"), text);
        assertTrue(text.contains("Read bandwidth measured in the same run: 14.00 GB/s"), text);
        // cpu: median step 3 ms over a 1.5 ms bound; libtorch steps 6 and 4.5 ms; re-run sequence 25000 vs 1000 ms
        assertTrue(text.contains("| D1 | 1 | cpu | 3.000 | 2.000 | 1.500 | 2.00 | 1000.0 | 2.00 | 1.50 | 25.00 | 3.0e-07 |"),
                text);
        assertTrue(text.contains("| D1 | 1 | libtorch-kv-cat | 6.000 | 6.000 | 1.500 | 4.00 | 3000.0 |  |  |  | 2.0e-07 |"),
                text);
        assertTrue(text.contains("| cpu-forward-per-step | 60.000 | 60.000 | 1.500 | 40.00 | ≈ 25000.0 (estimate) |"),
                text);
        assertTrue(text.contains("cpu-forward-per-step at batch 1: sequence estimated from the forward timed at 2"
                + " text lengths [1, 512]"), text);
        assertTrue(text.indexOf("### Decoding (D1)") < text.indexOf(ResultsPage.END), "inside the generated section");
        assertTrue(Files.size(dir.resolve(ResultsPage.CHART)) > 1000, "chart written");
    }

    @Test
    void decodeJsonRowsCarryPerStepBoundSequenceAndSpeedUps() {
        Workload d1 = Workload.decoding().get(1);
        List<DecodeMeasurement> all = decodeResults(d1);
        String ours = all.get(0).toJson(all);
        assertTrue(ours.startsWith("{\"workload\":\"D1\",\"batch\":8,\"runner\":\"cpu\",\"backend\":\"cpu\","
                + "\"median_ms\":3.0000,"), ours);
        assertTrue(ours.contains("\"bound_ms\":1.5000,\"step_over_bound\":2.000,\"sequence_ms\":1000.000,"
                + "\"sequence_estimated\":false,\"sequence_reps\":1"), ours);
        assertTrue(ours.contains("\"step_speedup_vs_libtorch_kv_cat\":2.000,"
                + "\"step_speedup_vs_libtorch_kv_preallocated\":1.500,\"sequence_speedup_vs_forward_per_step\":25.000}"),
                ours);
        String rerun = all.get(3).toJson(all);
        assertTrue(rerun.contains("\"sequence_ms\":25000.000,\"sequence_estimated\":true,\"sequence_lengths_timed\":2"),
                rerun);
        assertTrue(!rerun.contains("speedup"), "peers carry no speed-up of ours: " + rerun);
        assertThrows(IllegalArgumentException.class, () -> new DecodeMeasurement(d1, "x", "cpu",
                DecodeMeasurement.Role.SESSION, new double[] {1}, new double[] {1}, 5, new int[] {1, 512}, 1, 0),
                "a measured and an estimated sequence at once");
    }
}
