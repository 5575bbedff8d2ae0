package dev.mmca.cuda;

import dev.mmca.backend.Availability;
import dev.mmca.plan.AttentionParamsLayout;
import java.util.Collections;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Loader;

/**
 * Finds out, once and without ever throwing, whether CUDA can run here. Checks go from cheap to
 * expensive, and the JavaCPP CUDA presets are touched last, only once a driver and a device were
 * seen (without {@code libcuda.so.1} they fail with an {@link UnsatisfiedLinkError}):
 * <ol>
 *   <li>the kernel library is in the jar (it is only built where nvcc exists);</li>
 *   <li>it loads (it links the CUDA runtime statically, so it needs no CUDA install);</li>
 *   <li>{@code libcuda.so.1}, the driver, can be opened;</li>
 *   <li>cudaGetDeviceCount finds a device of compute capability 8.0 or newer;</li>
 *   <li>the presets' cudart and cublas load.</li>
 * </ol>
 */
final class CudaProbe {
    /** Resource of the kernel library, relative to this package. */
    static final String KERNEL_LIBRARY = "linux-x86_64/libmmcacuda.so";

    private final boolean nativeLoaded;
    private final Availability availability;
    private final Set<Integer> dimHeads;
    private final int devices;

    private CudaProbe(boolean nativeLoaded, Availability availability) {
        this(nativeLoaded, availability, 0);
    }

    private CudaProbe(boolean nativeLoaded, Availability availability, int devices) {
        this.nativeLoaded = nativeLoaded;
        this.availability = availability;
        this.dimHeads = nativeLoaded ? libraryDimHeads() : Set.of();
        this.devices = devices;
    }

    /** The head widths the loaded kernel library was compiled for (its dispatcher's list); empty when not loaded. */
    Set<Integer> dimHeads() {
        return dimHeads;
    }

    /** Devices found (0 unless available). */
    int devices() {
        return devices;
    }

    /** Null when device {@code ordinal} can run the kernels, otherwise why not (only meaningful when available). */
    String deviceProblem(int ordinal) {
        if (ordinal < 0 || ordinal >= devices) {
            return "device " + ordinal + " does not exist (" + devices + " device(s) found)";
        }
        int[] major = new int[1];
        int[] minor = new int[1];
        CudaNative.mmca_cuda_device_info(ordinal, major, minor, new long[1], new long[1]);
        if (major[0] < 8) {
            return "device " + ordinal + " (" + CudaNative.mmca_cuda_device_name(ordinal) + ") has compute capability "
                    + major[0] + "." + minor[0] + "; the CUDA kernels need 8.0 or newer";
        }
        return null;
    }

    private static Set<Integer> libraryDimHeads() {
        int n = CudaNative.mmca_cuda_dim_heads(null, 0);
        int[] d = new int[n];
        CudaNative.mmca_cuda_dim_heads(d, n);
        Set<Integer> all = new TreeSet<>();
        for (int x : d) {
            all.add(x);
        }
        return Collections.unmodifiableSet(all);
    }

    private static final class Holder {
        static final CudaProbe RESULT = run();
    }

    static CudaProbe get() {
        return Holder.RESULT;
    }

    /** Whether libmmcacuda and its JNI glue loaded (true on a build with nvcc even without a GPU). */
    boolean nativeLoaded() {
        return nativeLoaded;
    }

    Availability availability() {
        return availability;
    }

    /** Whether this jar carries the kernel library (it is built only where nvcc exists). */
    static boolean kernelLibraryPackaged() {
        return CudaProbe.class.getResource(KERNEL_LIBRARY) != null;
    }

    private static CudaProbe run() {
        try {
            return probe();
        } catch (Throwable t) {  // availability must never throw, whatever the native side does
            return new CudaProbe(false, Availability.unavailable("CUDA probe failed: " + CudaErrors.describe(t)));
        }
    }

    private static CudaProbe probe() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return new CudaProbe(false, Availability.unavailable("CUDA kernels are built for linux-x86_64 only, this is "
                    + os + "-" + arch));
        }
        if (!kernelLibraryPackaged()) {
            return new CudaProbe(false, Availability.unavailable("built without CUDA (mmca-cuda has no "
                    + KERNEL_LIBRARY + "; it is built when /usr/local/cuda/bin/nvcc exists)"));
        }
        try {
            Class.forName(CudaNative.class.getName(), true, CudaProbe.class.getClassLoader());
        } catch (Throwable t) {
            return new CudaProbe(false, Availability.unavailable("the CUDA kernel library failed to load: "
                    + CudaErrors.describe(t)));
        }
        int size = CudaNative.mmca_cuda_params_size();
        if (size != AttentionParamsLayout.SIZE) {
            return new CudaProbe(false, Availability.unavailable("kernel library mismatch: its mmca_attention_params"
                    + " has " + size + " bytes, this jar writes " + AttentionParamsLayout.SIZE));
        }
        int interleaved = CudaNative.mmca_cuda_interleaved_params_size();
        if (interleaved != dev.mmca.plan.InterleavedParamsLayout.SIZE) {
            return new CudaProbe(false, Availability.unavailable("kernel library mismatch: its mmca_interleaved_params"
                    + " has " + interleaved + " bytes, this jar writes " + dev.mmca.plan.InterleavedParamsLayout.SIZE));
        }
        String driver = CudaNative.mmca_cuda_driver_problem();
        if (driver != null && !driver.isEmpty()) {
            return new CudaProbe(true, Availability.unavailable(driver));
        }
        int[] count = new int[1];
        int status = CudaNative.mmca_cuda_device_count(count);
        if (status != 0) {
            return new CudaProbe(true, Availability.unavailable("cudaGetDeviceCount failed: "
                    + CudaNative.mmca_cuda_error_string(status)));
        }
        if (count[0] == 0) {
            return new CudaProbe(true, Availability.unavailable("no CUDA device found"));
        }
        int[] major = new int[1];
        int[] minor = new int[1];
        long[] total = new long[1];
        CudaNative.mmca_cuda_device_info(0, major, minor, total, new long[1]);
        String name = CudaNative.mmca_cuda_device_name(0);
        if (major[0] < 8) {
            return new CudaProbe(true, Availability.unavailable("device 0 (" + name + ") has compute capability "
                    + major[0] + "." + minor[0] + "; the CUDA kernels need 8.0 or newer"));
        }
        try {
            Loader.load(cudart.class);
            Loader.load(cublas.class);
        } catch (Throwable t) {
            return new CudaProbe(true, Availability.unavailable("the JavaCPP CUDA presets (cudart, cublas) failed to"
                    + " load; they need libcudart.so.13 and libcublas.so.13 on the library path: "
                    + CudaErrors.describe(t)));
        }
        return new CudaProbe(true, Availability.available(name + ", sm_" + major[0] + minor[0] + ", "
                + (total[0] >> 30) + " GiB, " + count[0] + " device(s)"), count[0]);
    }
}
