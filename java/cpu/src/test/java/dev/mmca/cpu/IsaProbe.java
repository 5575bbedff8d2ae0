package dev.mmca.cpu;

/** Prints the kernel path the library chose at load (run in a fresh JVM by CpuAvailabilityTest). */
public final class IsaProbe {
    private IsaProbe() {
    }

    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("availability")) {
            System.out.println(new CpuBackend().availability());
            return;
        }
        Throwable failure = CpuRuntime.loadFailure();
        if (failure != null) {
            System.out.println("load failed: " + CpuRuntime.describe(failure));
            System.exit(1);
        }
        if (args.length > 0 && args[0].equals("blas")) {
            System.out.println(CpuRuntime.blasCore());
            return;
        }
        if (args.length > 0 && args[0].equals("isa-and-threads")) {
            System.out.println(CpuRuntime.isa() + " " + CpuRuntime.threads());
            return;
        }
        if (args.length > 0 && args[0].equals("threads")) {
            System.out.println(CpuRuntime.threads());
            return;
        }
        String features = CpuRuntime.cpuFeatures();
        System.out.println(CpuRuntime.isa() + (features.contains("ignored") ? " (ignored)" : ""));
    }
}
