package dev.mmca.cli;

import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.cpu.CpuCalibration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** Prints the Java runtime, CPU features, the java backend's kernels and every backend with its availability. */
@Command(name = "info", mixinStandardHelpOptions = true,
        description = "Show the Java version, CPU features, and which backends are available (and why not).")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("java:     " + System.getProperty("java.vm.name") + " " + Runtime.version() + " ("
                + System.getProperty("java.vendor") + ")");
        System.out.println("os:       " + System.getProperty("os.name") + " " + System.getProperty("os.arch")
                + ", " + Runtime.getRuntime().availableProcessors() + " processors, max heap "
                + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB");
        System.out.println("cpu:      " + cpuModel());
        System.out.println("features: " + cpuFlags());
        String kernels;
        try {
            kernels = CpuCalibration.cpuFeatures();
        } catch (RuntimeException | LinkageError e) {
            kernels = "unavailable (" + Main.message(e) + ")";
        }
        System.out.println("native:   " + kernels);
        // the java backend's kernels: Vector API or scalar, and why (with the flag that enables the Vector API)
        String javaKernels;
        try {
            javaKernels = JavaBackend.kernels();
        } catch (RuntimeException | LinkageError e) {
            javaKernels = "unavailable (" + Main.message(e) + ")";
        }
        System.out.println("java kernels: " + javaKernels);
        System.out.println("selected: " + Backends.defaultRequest() + " (property " + Backends.PROPERTY
                + ", environment " + Backends.ENV + ")");
        System.out.println("backends:");
        for (Backend b : Backends.all()) {
            Availability a = Backends.availabilityOf(b);
            System.out.printf("  %-5s priority %2d  %s%n", b.name(), b.priority(), a);
        }
        return 0;
    }

    static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (Exception e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return "unknown";
    }

    /** The SIMD-related flags from /proc/cpuinfo (the ones the kernels dispatch on). */
    static String cpuFlags() {
        Set<String> wanted = Set.of("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                "avx512dq", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "asimd", "sve");
        Set<String> found = new LinkedHashSet<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags") || line.startsWith("Features")) {
                    for (String f : line.substring(line.indexOf(':') + 1).trim().split("\\s+")) {
                        if (wanted.contains(f)) {
                            found.add(f);
                        }
                    }
                    break;
                }
            }
        } catch (Exception e) {
            return "unknown (" + e.getMessage() + ")";
        }
        return found.isEmpty() ? "none of the SIMD flags of interest" : String.join(" ", found);
    }
}
