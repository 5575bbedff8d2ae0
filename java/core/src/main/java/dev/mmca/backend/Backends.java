package dev.mmca.backend;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.java.JavaBackend;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds backends and picks one. The request comes from, in order: an explicit argument (e.g. the
 * {@code --backend} flag), the system property {@value #PROPERTY}, the environment variable
 * {@value #ENV}, else {@code auto}. {@code auto} takes the available backend with the highest
 * priority that supports the config; a named backend that cannot run is an error, never a silent
 * fallback. The choice and its reason are logged once per distinct choice.
 */
public final class Backends {
    public static final String PROPERTY = "mmca.backend";
    public static final String ENV = "MMCA_BACKEND";
    public static final String AUTO = "auto";

    private static final System.Logger LOG = System.getLogger("dev.mmca.backend");
    private static final Set<String> LOGGED = ConcurrentHashMap.newKeySet();
    private static volatile List<Backend> all;

    private Backends() {
    }

    /** Every known backend, highest priority first, available or not. */
    public static List<Backend> all() {
        List<Backend> list = all;
        if (list == null) {
            synchronized (Backends.class) {
                list = all;
                if (list == null) {
                    List<Backend> found = new ArrayList<>();
                    found.add(JavaBackend.instance());
                    for (Backend b : ServiceLoader.load(Backend.class, Backends.class.getClassLoader())) {
                        if (found.stream().noneMatch(x -> x.name().equals(b.name()))) {
                            found.add(b);
                        }
                    }
                    found.sort(Comparator.comparingInt(Backend::priority).reversed());
                    all = list = List.copyOf(found);
                }
            }
        }
        return list;
    }

    /** The backend called {@code name}, available or not. */
    public static Backend byName(String name) {
        for (Backend b : all()) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        throw new IllegalArgumentException("backend: expected one of " + names() + " or auto, got '" + name + "'");
    }

    /** {@code name} or {@code name:device} (e.g. {@code cuda:1}). */
    private static Backend named(String request) {
        int colon = request.indexOf(':');
        if (colon < 0) {
            return byName(request);
        }
        String device = request.substring(colon + 1).trim();
        int ordinal;
        try {
            ordinal = Integer.parseInt(device);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend: expected name or name:device with a device ordinal, got '"
                    + request + "'");
        }
        return byName(request.substring(0, colon).trim()).onDevice(ordinal);
    }

    /** Names of every known backend plus {@code auto}. */
    public static List<String> names() {
        List<String> n = new ArrayList<>();
        for (Backend b : all()) {
            n.add(b.name());
        }
        return n;
    }

    /** The request in force when no explicit one is given: property, then environment, then auto. */
    public static String defaultRequest() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return p.trim().toLowerCase(Locale.ROOT);
        }
        String e = System.getenv(ENV);
        if (e != null && !e.isBlank()) {
            return e.trim().toLowerCase(Locale.ROOT);
        }
        return AUTO;
    }

    /** Selects with the default request (property, environment, auto). */
    public static Backend select(MmcaConfig config) {
        return select(null, config);
    }

    /**
     * Selects a backend for {@code config} ({@code null} for "any config").
     *
     * @param request a backend name, {@code auto}, or null for {@link #defaultRequest()}
     * @throws BackendUnavailableException if the named backend cannot run here or cannot run the config
     */
    public static Backend select(String request, MmcaConfig config) {
        String source = request != null ? "requested" : describeDefaultSource();
        String r = request != null ? request.trim().toLowerCase(Locale.ROOT) : defaultRequest();
        if (!r.equals(AUTO)) {
            Backend b = named(r);
            Availability a = b.availability();
            if (!a.isAvailable()) {
                throw new BackendUnavailableException("backend '" + r + "' (" + source + ") is not available: "
                        + a.reason());
            }
            if (config != null) {
                Support s = b.supports(config);
                if (!s.isSupported()) {
                    throw new BackendUnavailableException("backend '" + r + "' (" + source + ") does not support "
                            + config + ": " + s.reason());
                }
            }
            logOnce(b, source + "; " + a.reason());
            return b;
        }
        StringBuilder skipped = new StringBuilder();
        for (Backend b : all()) {
            Availability a = b.availability();
            if (!a.isAvailable()) {
                skipped.append("; ").append(b.name()).append(" unavailable (").append(a.reason()).append(')');
                continue;
            }
            if (config != null) {
                Support s = b.supports(config);
                if (!s.isSupported()) {
                    skipped.append("; ").append(b.name()).append(" unsupported (").append(s.reason()).append(')');
                    continue;
                }
            }
            logOnce(b, "auto: best available, " + a.reason() + skipped);
            return b;
        }
        throw new BackendUnavailableException("no backend can run " + config + skipped);
    }

    private static String describeDefaultSource() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) {
            return "system property " + PROPERTY;
        }
        String e = System.getenv(ENV);
        if (e != null && !e.isBlank()) {
            return "environment variable " + ENV;
        }
        return "default";
    }

    private static void logOnce(Backend b, String reason) {
        if (LOGGED.add(b.toString())) {
            LOG.log(System.Logger.Level.INFO, "mmca backend: " + b + " (" + reason + ")");
        }
    }
}
