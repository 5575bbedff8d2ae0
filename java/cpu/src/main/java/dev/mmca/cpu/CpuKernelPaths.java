package dev.mmca.cpu;

import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import dev.mmca.parity.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The kernel paths of the {@code cpu} backend: one per instruction set of the attention kernels
 * ({@code avx512}, {@code avx2}, {@code portable}), all float32. This JVM switches between them and between thread
 * counts with {@link CpuRuntime#setIsa} and {@link CpuRuntime#setThreads}, so no path needs a fresh JVM; the
 * {@link Launch} of each path ({@code MMCA_CPU_ISA}, {@value CpuRuntime#THREADS_PROPERTY}) says how a JVM starts
 * on it. A path this CPU cannot run is listed as unavailable, naming the features it lacks. OpenBLAS's own kernel
 * choice is not a path of this backend: it is fixed when OpenBLAS loads.
 */
public final class CpuKernelPaths implements KernelPaths {
    /** The paths from best to worst, with the cpuid features each needs. */
    private static final Map<String, List<String>> NEEDS = Map.of(
            "avx512", List.of("avx512f", "avx512bw", "avx512dq", "avx512vl", "fma"),
            "avx2", List.of("avx2", "fma"),
            "portable", List.of());
    private static final List<String> ORDER = List.of("avx512", "avx2", "portable");

    /** Used by {@link java.util.ServiceLoader}. */
    public CpuKernelPaths() {
    }

    @Override
    public String backend() {
        return "cpu";
    }

    @Override
    public List<KernelPath> paths(Backend backend) {
        String inForce = CpuRuntime.isa();
        Set<String> features = Set.of(CpuRuntime.cpuFeatures().split(";")[0].trim().split(" "));
        List<String> order = new ArrayList<>();
        order.add(inForce);
        for (String isa : ORDER) {
            if (!isa.equals(inForce)) {
                order.add(isa);
            }
        }
        List<KernelPath> paths = new ArrayList<>();
        for (String isa : order) {
            List<String> missing = NEEDS.get(isa).stream().filter(f -> !features.contains(f)).toList();
            KernelPath.Builder b = KernelPath.builder(backend, isa).precision(Precision.FP32)
                    .threads(CpuRuntime::threads).switcher(new IsaSwitch(isa))
                    .launch(threads -> new Launch(List.of(), threads > 0 ? Map.of(CpuRuntime.THREADS_PROPERTY,
                            Integer.toString(threads)) : Map.of(), Map.of("MMCA_CPU_ISA", isa)));
            if (!missing.isEmpty()) {
                b.availability(Availability.unavailable("this CPU lacks " + String.join(", ", missing)
                        + " (cpuid: " + CpuRuntime.cpuFeatures() + ")"));
            }
            paths.add(b.build());
        }
        return paths;
    }

    /** Selects an instruction set and a thread count in this JVM, and restores both. */
    private static final class IsaSwitch implements KernelPath.Switch {
        private final String isa;

        IsaSwitch(String isa) {
            this.isa = isa;
        }

        @Override
        public String obstacle(int threads) {
            return null;
        }

        @Override
        public KernelPath.Selection select(int threads) {
            String isaBefore = CpuRuntime.isa();
            int threadsBefore = CpuRuntime.threads();
            CpuRuntime.setIsa(isa);
            if (threads > 0) {
                CpuRuntime.setThreads(threads);
            }
            return () -> {
                CpuRuntime.setThreads(threadsBefore);
                CpuRuntime.setIsa(isaBefore);
            };
        }
    }
}
