package dev.mmca.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What the numbers were measured on: CPU model, cores, memory, OS, JDK. Read from /proc on Linux. */
public final class MachineInfo {
    private final String cpu;
    private final int cores;
    private final String memory;
    private final String os;
    private final String jdk;

    private MachineInfo(String cpu, int cores, String memory, String os, String jdk) {
        this.cpu = cpu;
        this.cores = cores;
        this.memory = memory;
        this.os = os;
        this.jdk = jdk;
    }

    public static MachineInfo detect() {
        String cpu = firstValue(Path.of("/proc/cpuinfo"), "model name");
        String mem = firstValue(Path.of("/proc/meminfo"), "MemTotal");
        String memory = "unknown";
        if (mem != null) {
            try {
                long kib = Long.parseLong(mem.replace("kB", "").trim());
                memory = String.format(Locale.ROOT, "%.1f GiB", kib / (1024.0 * 1024.0));
            } catch (NumberFormatException e) {
                memory = mem;
            }
        }
        String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch");
        String jdk = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
        return new MachineInfo(cpu == null ? "unknown" : cpu, Runtime.getRuntime().availableProcessors(), memory,
                os, jdk);
    }

    private static String firstValue(Path file, String key) {
        try {
            for (String line : Files.readAllLines(file)) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().equals(key)) {
                    return line.substring(colon + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            return null;
        }
        return null;
    }

    /** The 1, 5 and 15 minute load averages now (other processes compete for the cores), or "unknown". */
    public static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    public String cpu() { return cpu; }
    public int cores() { return cores; }
    public String memory() { return memory; }
    public String os() { return os; }
    public String jdk() { return jdk; }

    /** {@code key: value} lines for printing. */
    public List<String> lines() {
        List<String> l = new ArrayList<>();
        l.add("CPU: " + cpu + " (" + cores + " logical cores available to the JVM)");
        l.add("Memory: " + memory);
        l.add("OS: " + os);
        l.add("JDK: " + jdk);
        return l;
    }
}
