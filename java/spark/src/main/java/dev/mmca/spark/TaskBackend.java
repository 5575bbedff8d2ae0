package dev.mmca.spark;

import dev.mmca.backend.Backends;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * The backend request a task runs with. When Spark schedules GPUs
 * ({@code spark.task.resource.gpu.amount}), each task is handed its own GPU addresses, and a
 * {@code cuda} (or {@code auto}) request becomes {@code cuda:<first address>}, so tasks spread
 * over the executor's GPUs instead of all using device 0.
 */
final class TaskBackend {
    /** The resource name Spark schedules GPUs under. */
    static final String GPU_RESOURCE = "gpu";

    private TaskBackend() {
    }

    /** The request for the running task (the request itself outside a task or without a GPU). */
    static String forCurrentTask(String requested) {
        TaskContext task = TaskContext.get();
        String[] gpus = null;
        if (task != null) {
            Map<String, ResourceInformation> resources = task.resourcesJMap();
            ResourceInformation gpu = resources == null ? null : resources.get(GPU_RESOURCE);
            gpus = gpu == null ? null : gpu.addresses();
        }
        return request(requested, gpus, TaskBackend::cudaAvailable);
    }

    /**
     * The request for a task given its GPU addresses: {@code cuda} becomes {@code cuda:<first
     * address>}; {@code auto} too when the cuda backend can run in this JVM (else it stays
     * {@code auto}: a GPU was scheduled that this JVM cannot use, and the best other backend runs);
     * any other request (a named device such as {@code cuda:1}, {@code cpu}, {@code java}) stays as
     * it is, as does every request when no GPU is assigned.
     *
     * @param gpuAddresses the task's {@code gpu} resource addresses, or null when it has none
     * @param cudaAvailable asked only for {@code auto} with a GPU assigned
     * @throws IllegalArgumentException when the first address is not a device ordinal
     */
    static String request(String requested, String[] gpuAddresses, BooleanSupplier cudaAvailable) {
        String r = requested.trim().toLowerCase(Locale.ROOT);
        if (gpuAddresses == null || gpuAddresses.length == 0) {
            return r;
        }
        boolean cuda = r.equals("cuda");
        if (!cuda && !(r.equals(Backends.AUTO) && cudaAvailable.getAsBoolean())) {
            return r;
        }
        return "cuda:" + ordinal(gpuAddresses[0]);
    }

    private static int ordinal(String address) {
        String a = address == null ? "" : address.trim();
        if (!a.matches("[0-9]{1,9}")) {
            throw new IllegalArgumentException("spark task resource '" + GPU_RESOURCE + "': expected a CUDA device"
                    + " ordinal such as 0 as the first address, got '" + address + "' (check the GPU discovery"
                    + " script: it must report device indices)");
        }
        return Integer.parseInt(a);
    }

    private static boolean cudaAvailable() {
        try {
            return Backends.byName("cuda").availability().isAvailable();
        } catch (IllegalArgumentException e) {
            return false;  // no cuda backend on the class path
        }
    }
}
