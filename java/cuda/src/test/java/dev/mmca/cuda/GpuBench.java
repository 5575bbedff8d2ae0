package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Availability;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Timings for native/cuda/gpu-check.sh, written as CSV ({@code case,ms,gflop}):
 * <ul>
 *   <li>G1 attention: batch 4, heads 32, kv heads 8, N = M = 4096, D 128, GROUPED mapping (as SDPA
 *   {@code enable_gqa}), causal and not, in BF16, FP32 (exact) and TF32;</li>
 *   <li>the fused MMCA text operation at G1 sizes (causal self + full cross);</li>
 *   <li>SimpleMMCA W2 forward (batch 4, Nv 576, Nt 512, dim 1024, heads 16, kv 4, D 64), host tensors
 *   in and out, on cuda (FP32, TF32, BF16) and on the cpu backend when it is on the class path; and
 *   the forward on device tensors ({@link CudaDeviceModel}, no host transfers) for comparison with PyTorch.</li>
 * </ul>
 * Usage: {@code GpuBench --out FILE [--budget-ms N]} (N: time per case, default 600).
 */
public final class GpuBench {
    private static final int B = 4;
    private static final int H = 32;
    private static final int G = 8;
    private static final int N = 4096;
    private static final int D = 128;

    private final PrintWriter csv;
    private final long budgetNanos;

    private GpuBench(PrintWriter csv, long budgetMs) {
        this.csv = csv;
        this.budgetNanos = budgetMs * 1_000_000L;
    }

    public static void main(String[] args) throws IOException {
        Path out = null;
        long budget = 600;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                out = Path.of(args[++i]);
            } else if (args[i].equals("--budget-ms") && i + 1 < args.length) {
                budget = Long.parseLong(args[++i]);
            } else {
                System.err.println("usage: GpuBench --out FILE [--budget-ms N]; unknown argument " + args[i]);
                System.exit(2);
            }
        }
        if (out == null) {
            System.err.println("usage: GpuBench --out FILE [--budget-ms N]");
            System.exit(2);
        }
        Availability a = new CudaBackend().availability();
        System.out.println("cuda backend: " + a);
        if (!a.isAvailable()) {
            System.exit(3);
        }
        // Rows are flushed as they come, so a run cut short by a timeout still leaves its results.
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8), true)) {
            w.println("case,ms,gflop");
            GpuBench bench = new GpuBench(w, budget);
            bench.attentionCases();
            bench.modelCases();
        }
    }

    private void record(String name, double ms, double gflop) {
        String row = String.format(Locale.ROOT, "%s,%.4f,%.3f", name, ms, gflop);
        csv.println(row);
        System.out.println(row);
    }

    /** Mean milliseconds per call: one warm-up, then calls until the budget or 50 calls. */
    private double time(Runnable call) {
        call.run();
        CudaAttention.synchronize(0, 0L);
        int calls = 0;
        long start = System.nanoTime();
        long now;
        do {
            call.run();
            calls++;
            CudaAttention.synchronize(0, 0L);
            now = System.nanoTime();
        } while (now - start < budgetNanos && calls < 50);
        return (now - start) / 1e6 / calls;
    }

    /** A device buffer of {@code count} fp32 values drawn from N(0, 1), written block by block. */
    private static DeviceMemory randomDevice(DeviceMemory m, long count, long seed) {
        int block = 1 << 20;
        FloatTensor random = RandomInputs.normal(seed, block);
        for (long off = 0; off < count; off += block) {
            int n = (int) Math.min(block, count - off);
            FloatTensor part = n == block ? random : FloatTensor.of(java.util.Arrays.copyOf(random.array(), n), n);
            DeviceMemory.write(m.address() + off * Float.BYTES, part);
        }
        return m;
    }

    private static AttentionProblem g1(boolean causal) {
        return AttentionProblem.builder().batch(B).heads(H).kvHeads(G).queries(N).keys(N).dimHead(D)
                .causal(causal).headMapping(HeadMapping.GROUPED).build();
    }

    private void attentionCases() {
        long qn = (long) B * N * H * D;
        long kn = (long) B * N * G * D;
        List<DeviceMemory> held = new ArrayList<>();
        try {
            DeviceMemory q = add(held, randomDevice(DeviceMemory.floats(qn), qn, 1));
            DeviceMemory k = add(held, randomDevice(DeviceMemory.floats(kn), kn, 2));
            DeviceMemory v = add(held, randomDevice(DeviceMemory.floats(kn), kn, 3));
            DeviceMemory q2 = add(held, randomDevice(DeviceMemory.floats(qn), qn, 4));
            DeviceMemory out = add(held, DeviceMemory.floats(2 * qn));
            // 16-bit copies
            DeviceMemory hq = add(held, DeviceMemory.allocate(qn * 2));
            DeviceMemory hk = add(held, DeviceMemory.allocate(kn * 2));
            DeviceMemory hv = add(held, DeviceMemory.allocate(kn * 2));
            DeviceMemory hq2 = add(held, DeviceMemory.allocate(qn * 2));
            DeviceMemory hout = add(held, DeviceMemory.allocate(2 * qn * 2));
            CudaNative.mmca_cuda_convert(0, hq.address(), q.address(), qn, CudaDtype.BF16.code(), 0, 0L);
            CudaNative.mmca_cuda_convert(0, hk.address(), k.address(), kn, CudaDtype.BF16.code(), 0, 0L);
            CudaNative.mmca_cuda_convert(0, hv.address(), v.address(), kn, CudaDtype.BF16.code(), 0, 0L);
            CudaNative.mmca_cuda_convert(0, hq2.address(), q2.address(), qn, CudaDtype.BF16.code(), 0, 0L);
            for (CudaPrecision p : new CudaPrecision[] {CudaPrecision.BF16, CudaPrecision.FP32, CudaPrecision.TF32}) {
                boolean half = p == CudaPrecision.BF16;
                long aq = half ? hq.address() : q.address();
                long ak = half ? hk.address() : k.address();
                long av = half ? hv.address() : v.address();
                long aq2 = half ? hq2.address() : q2.address();
                long ao = half ? hout.address() : out.address();
                String tag = p.name().toLowerCase(Locale.ROOT);
                for (boolean causal : new boolean[] {false, true}) {
                    AttentionProblem prob = g1(causal);
                    double ms = time(() -> CudaAttention.attention(0, prob, p, aq, ak, av, ao, 0, 0, 0L));
                    record("g1_attn_" + tag + "_" + (causal ? "causal" : "full"), ms, prob.flops() / 1e9);
                }
                AttentionProblem self = g1(true);
                AttentionProblem cross = g1(false);
                double ms = time(() -> CudaAttention.text(0, self, cross, p, aq, ak, av, 0, aq2, ak, av, 0, 0, ao, 0L));
                record("g1_text_" + tag, ms, (self.flops() + cross.flops()) / 1e9);
            }
        } finally {
            for (DeviceMemory m : held) {
                m.close();
            }
        }
    }

    private static DeviceMemory add(List<DeviceMemory> held, DeviceMemory m) {
        held.add(m);
        return m;
    }

    private void modelCases() {
        MmcaConfig config = MmcaConfig.builder().dim(1024).heads(16).kvHeads(4).dimHead(64).build();
        MmcaWeights w = MmcaWeights.random(config, 11);
        FloatTensor v = RandomInputs.normal(1, B, 576, 1024);
        FloatTensor t = RandomInputs.normal(2, B, 512, 1024);
        for (CudaPrecision p : new CudaPrecision[] {CudaPrecision.FP32, CudaPrecision.TF32, CudaPrecision.BF16}) {
            try (SimpleMmca model = SimpleMmca.create(config, w, CudaBackend.withPrecision(p))) {
                double ms = time(() -> model.forward(v, t));
                record("w2_forward_cuda_" + p.name().toLowerCase(Locale.ROOT), ms, 0);
            }
        }
        // The same forward on tensors already on the device (no host transfers), in each precision's type.
        int rv = B * 576;
        int rt = B * 512;
        for (CudaPrecision p : new CudaPrecision[] {CudaPrecision.FP32, CudaPrecision.TF32, CudaPrecision.BF16}) {
            try (CudaDeviceModel model = CudaDeviceModel.create(config, w, p);
                    DeviceTensors dev = new DeviceTensors(p.dtype())) {
                long dv = dev.input(v);
                long dt = dev.input(t);
                long vo = dev.poisonedOutput((long) rv * 1024);
                long to = dev.poisonedOutput((long) rt * 1024);
                double ms = time(() -> model.forward(B, 576, 512, dv, dt, 0, 0, vo, to, 0L));
                record("w2_device_" + p.name().toLowerCase(Locale.ROOT), ms, 0);
            }
        }
        Backend cpu;
        try {
            cpu = Backends.byName("cpu");
        } catch (IllegalArgumentException e) {
            System.out.println("cpu backend not on the class path: " + e.getMessage());
            return;
        }
        if (!cpu.availability().isAvailable() || !cpu.supports(config).isSupported()) {
            System.out.println("cpu backend cannot run W2: " + cpu.availability() + " / " + cpu.supports(config));
            return;
        }
        try (SimpleMmca model = SimpleMmca.create(config, w, cpu)) {
            model.forward(v, t);
            int calls = 0;
            long start = System.nanoTime();
            long now;
            do {
                model.forward(v, t);
                calls++;
                now = System.nanoTime();
            } while (now - start < 3 * budgetNanos && calls < 10);
            record("w2_forward_cpu", (now - start) / 1e6 / calls, 0);
        } catch (RuntimeException e) {
            System.out.println("cpu backend failed on W2: " + e);
        }
    }
}
