package dev.mmca.cpu;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Throughput of the CPU backend on the project's reference shapes, as a fraction of OpenBLAS sgemm
 * 2048^3 measured in the same run (not a unit test; run its main). Flop counts: attention
 * {@link AttentionProblem#flops()}; a forward adds every projection GEMM ({@code 2 * rows * in * out}).
 */
public final class CpuBenchmark {
    private CpuBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        String only = args.length > 0 ? args[0] : "all";
        System.out.println("cpu backend: " + CpuCalibration.cpuFeatures());
        if (only.equals("all") || only.equals("memory")) {
            memory16k(); // first, while the process is small
        }
        if (only.equals("all") || only.equals("attention")) {
            attention("A1", problem(1, 16, 4, 2048, 2048, true), 9);
            attention("A2", problem(4, 16, 4, 512, 576, false), 9);
        }
        if (only.equals("all") || only.equals("forward")) {
            forward("W2", 4, 576, 512, 1024, 16, 4, 7);
            forward("W1", 32, 10, 10, 512, 8, 2, 9);
            tiny();
        }
    }

    static AttentionProblem problem(int b, int h, int g, int n, int m, boolean causal) {
        return AttentionProblem.builder().batch(b).heads(h).kvHeads(g).queries(n).keys(m).dimHead(64).causal(causal)
                .headMapping(HeadMapping.GROUPED).build();
    }

    static void attention(String name, AttentionProblem p, int rounds) {
        FloatTensor[] t = CpuAttentionParityTest.inputs(p, 1, true);
        CpuBackend cpu = new CpuBackend();
        cpu.attention(p, t[0], t[1], t[2], t[3]);
        measure(name + " " + p, p.flops(), rounds, 1, () -> cpu.attention(p, t[0], t[1], t[2], t[3]));
    }

    static void forward(String name, int b, int nv, int nt, int dim, int h, int g, int rounds) {
        MmcaConfig c = MmcaConfig.builder().dim(dim).heads(h).kvHeads(g).dimHead(64).causal(true)
                .composition(Composition.CROSS).headMapping(HeadMapping.GROUPED).build();
        MmcaInputs in = new MmcaInputs(RandomInputs.direct(RandomInputs.normal(1, b, nv, dim)),
                RandomInputs.direct(RandomInputs.normal(2, b, nt, dim)), null, null);
        FloatTensor vo = FloatTensor.allocateDirect(b, nv, dim);
        FloatTensor to = FloatTensor.allocateDirect(b, nt, dim);
        double hd = h * 64.0;
        double gd = g * 64.0;
        double flops = 0;
        for (int[] qc : new int[][] {{nv, nv}, {nt, nt}, {nt, nv}}) {
            flops += 2.0 * b * qc[0] * dim * hd * 2 + 2 * (2.0 * b * qc[1] * dim * gd);
        }
        flops += problem(b, h, g, nv, nv, false).flops() + problem(b, h, g, nt, nt, true).flops()
                + problem(b, h, g, nt, nv, false).flops();
        try (SimpleMmca m = SimpleMmca.create(c, MmcaWeights.random(c, 3), new CpuBackend())) {
            m.forwardInto(in, vo, to);
            measure(name + " forward B=" + b + " Nv=" + nv + " Nt=" + nt + " dim=" + dim + " H=" + h + " G=" + g,
                    flops, rounds, flops < 1e10 ? 10 : 1, () -> m.forwardInto(in, vo, to));
        }
    }

    static void tiny() {
        MmcaConfig c = MmcaConfig.builder().dim(64).heads(4).kvHeads(2).dimHead(16).build();
        for (boolean direct : new boolean[] {true, false}) {
            FloatTensor v = RandomInputs.normal(1, 1, 1, 64);
            FloatTensor t = RandomInputs.normal(2, 1, 1, 64);
            MmcaInputs in = direct ? new MmcaInputs(RandomInputs.direct(v), RandomInputs.direct(t), null, null)
                    : new MmcaInputs(v, t, null, null);
            FloatTensor vo = direct ? FloatTensor.allocateDirect(1, 1, 64) : FloatTensor.zeros(1, 1, 64);
            FloatTensor to = direct ? FloatTensor.allocateDirect(1, 1, 64) : FloatTensor.zeros(1, 1, 64);
            try (SimpleMmca m = SimpleMmca.create(c, MmcaWeights.random(c, 3), new CpuBackend())) {
                for (int i = 0; i < 20_000; i++) {
                    m.forwardInto(in, vo, to);
                }
                double[] us = new double[50_000];
                for (int i = 0; i < us.length; i++) {
                    long t0 = System.nanoTime();
                    m.forwardInto(in, vo, to);
                    us[i] = (System.nanoTime() - t0) / 1e3;
                }
                Arrays.sort(us);
                System.out.printf(Locale.ROOT, "tiny forward (B=1, 1+1 tokens, dim 64, %s tensors): median %.2f us, "
                        + "p90 %.2f us%n", direct ? "direct" : "heap", us[us.length / 2], us[us.length * 9 / 10]);
            }
        }
    }

    /** Peak resident memory added by attention at N = M = 16384 (batch 1, heads 8, kv 2, D 64, causal). */
    static void memory16k() throws IOException {
        AttentionProblem p = problem(1, 8, 2, 16384, 16384, true);
        FloatTensor[] t = CpuAttentionParityTest.inputs(p, 5, true);
        for (int i = 0; i < t[3].size(); i += 1024) {
            t[3].set(i, 0f); // touch the output pages
        }
        System.gc();
        Files.writeString(Path.of("/proc/self/clear_refs"), "5"); // resets VmHWM to the current RSS
        long base = status("VmRSS:");
        long t0 = System.nanoTime();
        new CpuBackend().attention(p, t[0], t[1], t[2], t[3]);
        double s = (System.nanoTime() - t0) / 1e9;
        long peak = status("VmHWM:");
        System.out.printf(Locale.ROOT, "N=M=16384 attention: %.2f s, %.1f GFLOP/s; RSS with inputs/outputs %d MB, "
                + "peak %d MB, added %.1f MB%n", s, p.flops() / s / 1e9, base / 1024, peak / 1024, (peak - base) / 1024.0);
    }

    static long status(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException(key + " not in /proc/self/status");
    }

    /**
     * Times {@code rounds} rounds; each round first calibrates sgemm 2048 (best of 2) and then times
     * {@code calls} calls of {@code run}, so that every ratio compares two figures taken moments apart
     * (this machine is shared, and its load changes from second to second). Reports medians.
     */
    static void measure(String what, double flops, int rounds, int calls, Runnable run) {
        double[] ms = new double[rounds];
        double[] sgemm = new double[rounds];
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            sgemm[r] = CpuCalibration.sgemmGflops(2048, 2);
            long t0 = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                run.run();
            }
            ms[r] = (System.nanoTime() - t0) / 1e6 / calls;
            ratio[r] = flops / (ms[r] * 1e6) / sgemm[r];
        }
        System.out.printf(Locale.ROOT, "%s: median %.2f ms (min %.2f), %.1f GFLOP/s; sgemm2048 median %.1f GFLOP/s;"
                + " ratio median %.0f%% (range %.0f%%..%.0f%%)%n", what, median(ms), min(ms), flops / (median(ms) * 1e6),
                median(sgemm), 100 * median(ratio), 100 * min(ratio), 100 * -min(negate(ratio)));
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    static double min(double[] a) {
        return Arrays.stream(a).min().orElse(Double.NaN);
    }

    static double[] negate(double[] a) {
        return Arrays.stream(a).map(x -> -x).toArray();
    }
}
