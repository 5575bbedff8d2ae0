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
}
