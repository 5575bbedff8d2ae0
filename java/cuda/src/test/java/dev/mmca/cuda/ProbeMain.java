package dev.mmca.cuda;

import dev.mmca.backend.Availability;

/** Prints whether the CUDA backend can run here and why; exit code 0 when available, 3 when not. */
public final class ProbeMain {
    private ProbeMain() {
    }

    public static void main(String[] args) {
        Availability a = new CudaBackend().availability();
        System.out.println("cuda backend: " + a);
        System.exit(a.isAvailable() ? 0 : 3);
    }
}
