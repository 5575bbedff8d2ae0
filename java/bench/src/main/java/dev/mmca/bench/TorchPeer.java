package dev.mmca.bench;

import dev.mmca.FloatTensor;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Access to libtorch (the JavaCPP PyTorch presets, CPU build): loading, threads, and copying tensors
 * between our {@link FloatTensor} and libtorch's {@link Tensor}.
 */
public final class TorchPeer {
    /**
     * libtorch's worker threads go on spinning after a call returns: measured here, a java attention call timed
     * right after a libtorch call took about 25 ms longer (fused interleaved, 84 against 54-61 ms), and 50 ms of idle
     * time in between removed the difference. So every libtorch runner asks for this pause after its turn
     * ({@link Runner#settleMillis()}); its own calls are timed as before.
     */
    public static final int SETTLE_MS = 100;

    /** Version of the presets on the class path (libtorch version, then the JavaCPP release). */
    public static final String PRESETS_VERSION = "2.10.0-1.5.13";

    private static final String[] BUNDLED_LIBRARIES = {"libgomp.so.1", "libc10.so", "libtorch_cpu.so", "libtorch.so"};

    private static volatile boolean loaded;

    private TorchPeer() {
    }

    /**
     * Loads libtorch and its dependencies (OpenBLAS, libgomp).
     *
     * @throws IllegalStateException naming the library that could not be loaded, with the loader's cause
     */
    public static synchronized void load() {
        if (loaded) {
            return;
        }
        try {
            // Extract libtorch's own libraries before loading anything: the loader extracts them one by
            // one as it loads them, so on a first run libtorch.so would otherwise resolve its NEEDED
            // libtorch_cpu.so / libc10.so from the system library path, and a distribution's older
            // libtorch there (e.g. Debian's libtorch1.13) crashes the JVM while loading.
            for (String lib : BUNDLED_LIBRARIES) {
                Loader.cacheResource(Tensor.class, Loader.getPlatform() + "/" + lib);
            }
            Loader.load(torch.class);
        } catch (Throwable t) {
            Throwable root = t;
            while (root.getCause() != null) {
                root = root.getCause();
            }
            throw new IllegalStateException("libtorch (org.bytedeco:pytorch:" + PRESETS_VERSION
                    + ":linux-x86_64) could not be loaded on " + Loader.getPlatform() + ": " + root, t);
        }
        loaded = true;
    }

    /** Sets libtorch's intra-op thread count ({@code at::set_num_threads}). */
    public static void setThreads(int threads) {
        load();
        torch.set_num_threads(threads);
    }

    public static int threads() {
        load();
        return torch.get_num_threads();
    }

    /** A new libtorch-owned float32 tensor with {@code t}'s shape and values. */
    public static Tensor copyOf(FloatTensor t) {
        load();
        int[] shape = t.shape();
        long[] sizes = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            sizes[i] = shape[i];
        }
        Tensor out = torch.empty(sizes);
        FloatPointer p = out.data_ptr_float();
        p.put(t.toArray());
        return out;
    }

    /** The values of {@code t} in row-major order (copied; {@code t} may be strided). */
    public static float[] toArray(Tensor t) {
        Tensor c = t.contiguous();
        try {
            long n = c.numel();
            float[] out = new float[Math.toIntExact(n)];
            c.data_ptr_float().get(out);
            return out;
        } finally {
            c.close();
        }
    }
}
