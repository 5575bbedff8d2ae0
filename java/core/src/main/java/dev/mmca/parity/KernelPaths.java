package dev.mmca.parity;

import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * A backend's description of its kernel paths, found with {@link ServiceLoader} (list the implementation in
 * {@code META-INF/services/dev.mmca.parity.KernelPaths}). The {@code cpu} backend describes its instruction-set
 * paths, {@code cuda} its precisions, {@code java} its kernels. A backend without a description has one path,
 * {@link KernelPath#asIs}.
 *
 * <p>Implementations must not throw from {@link #paths}: a path the host cannot run is listed with an
 * unavailable {@link KernelPath#availability()} that says why.
 */
public interface KernelPaths {
    /** The name of the backend described, e.g. {@code cpu}. */
    String backend();

    /**
     * The paths of {@code backend} (an instance of the described backend, possibly on another device), runnable
     * here or not, the one in force by default first.
     */
    List<KernelPath> paths(Backend backend);

    /** The paths of {@code backend}: from its description when one is on the class path, else {@link KernelPath#asIs}. */
    static List<KernelPath> of(Backend backend) {
        Availability available = Backends.availabilityOf(backend);
        if (!available.isAvailable()) {
            // Nothing of an unavailable backend can run; one path carries the reason.
            return List.of(KernelPath.builder(backend, "*").availability(available).build());
        }
        Iterator<KernelPaths> it = ServiceLoader.load(KernelPaths.class, KernelPaths.class.getClassLoader()).iterator();
        while (true) {
            KernelPaths description;
            try {
                if (!it.hasNext()) {
                    break;
                }
                description = it.next();
                if (!description.backend().equals(backend.name())) {
                    continue;
                }
            } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
                continue; // a description that cannot load describes nothing; the backend still has its default path
            }
            try {
                List<KernelPath> paths = description.paths(backend);
                if (paths != null && !paths.isEmpty()) {
                    return List.copyOf(paths);
                }
            } catch (RuntimeException | LinkageError e) {
                return List.of(KernelPath.builder(backend, "*").availability(Availability.unavailable(
                        "its kernel paths could not be listed: " + e)).build());
            }
        }
        return List.of(KernelPath.asIs(backend));
    }

    /** The paths of every backend on the class path, available or not, highest priority first. */
    static List<KernelPath> all() {
        List<KernelPath> all = new ArrayList<>();
        for (Backend b : Backends.all()) {
            all.addAll(of(b));
        }
        return all;
    }
}
