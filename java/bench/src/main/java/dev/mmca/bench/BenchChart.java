package dev.mmca.bench;

import dev.mmca.workload.Workload;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

/**
 * The results chart: GFLOP/s per workload, one bar per runner (each backend of ours, libtorch, ONNX
 * Runtime), at the median time per call, with the machine's measured FMA peak and the OpenBLAS sgemm
 * throughput of its best call drawn across as lines (the physical and a practical ceiling for float32).
 */
public final class BenchChart {
    private BenchChart() {
    }

    /** Writes a PNG of {@code results} (the calibration row among them) to {@code file}. */
    public static void writePng(Path file, List<Workload> workloads, List<Measurement> results, int threads,
            String cpu, double peak) throws IOException {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(1000).height(560)
                .title("MMCA-MGQA vs libtorch and ONNX Runtime, float32 CPU, " + threads + " threads (" + cpu + ")")
                .xAxisTitle("workload").yAxisTitle("GFLOP/s (higher is better)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsRotation(0);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);

        List<String> names = new ArrayList<>();
        workloads.forEach(w -> names.add(w.name()));
        Set<String> runners = new LinkedHashSet<>();
        Measurement sgemm = null;
        for (Measurement m : results) {
            if (m.workload().startsWith("sgemm")) {
                sgemm = m;
            } else {
                runners.add(m.backend());
            }
        }
        for (String runner : runners) {
            List<Double> y = new ArrayList<>();
            for (String w : names) {
                y.add(find(results, w, runner));
            }
            chart.addSeries(runner, names, y);
        }
        if (sgemm != null) {
            List<Double> y = new ArrayList<>();
            // The ceiling is the best call: on a shared machine the median of a 70 ms call is mostly noise.
            double best = sgemm.flops() / (sgemm.minMs() * 1e6);
            for (int i = 0; i < names.size(); i++) {
                y.add(Math.round(best * 10) / 10.0);
            }
            CategorySeries s = chart.addSeries("OpenBLAS sgemm " + Compare.SGEMM_SIZE + "^3 (best call)", names, y);
            s.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        }
        if (peak > 0) {
            List<Double> y = new ArrayList<>();
            for (int i = 0; i < names.size(); i++) {
                y.add(Math.round(peak * 10) / 10.0);
            }
            CategorySeries s = chart.addSeries("FMA peak (measured)", names, y);
            s.setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        if (!ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", file.toFile())) {
            throw new IOException(file + ": no PNG writer in this JDK");
        }
    }

    private static Double find(List<Measurement> results, String workload, String backend) {
        for (Measurement m : results) {
            if (m.workload().equals(workload) && m.backend().equals(backend)) {
                return Math.round(m.gflops() * 10) / 10.0;
            }
        }
        return 0.0;
    }
}
