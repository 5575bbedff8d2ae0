package dev.mmca.backend;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.java.JavaBackend;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds backends and picks one. The request comes from, in order: an explicit argument (e.g. the
 * {@code --backend} flag), the system property {@value #PROPERTY}, the environment variable
 * {@value #ENV}, else {@code auto}. {@code auto} takes the available backend with the highest
 * priority that supports the config; a named backend that cannot run is an error, never a silent
 * fallback. The choice and its reason are logged once per distinct choice.
 *
 * <p>Backends are found with {@link ServiceLoader}; a provider whose classes cannot be loaded or whose
 * constructor fails is kept as an unavailable backend that gives the reason, so that it takes no other
 * backend down with it.
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

    /**
     * Every known backend, highest priority first, available or not. A backend listed by a jar on the
     * class path whose classes cannot be loaded or whose constructor fails (e.g. the jar of a native
     * backend without its dependencies) is in the list too, as an unavailable backend whose
     * {@link Backend#availability()} gives the reason; it never keeps the others from loading.
     */
    public static List<Backend> all() {
        List<Backend> list = all;
        if (list == null) {
            synchronized (Backends.class) {
                list = all;
                if (list == null) {
                    all = list = discover(Backends.class.getClassLoader());
                }
            }
        }
        return list;
    }

    /** The service files' name for backend providers. */
    static final String SERVICE_FILE = "META-INF/services/" + Backend.class.getName();
    /** Provider failures after which discovery stops (a loader that fails the same way each time). */
    private static final int MAX_FAILURES = 64;

    /** The Java backend, every backend that {@code loader}'s service files list, and a stand-in for each that failed. */
    static List<Backend> discover(ClassLoader loader) {
        List<Backend> found = new ArrayList<>();
        found.add(JavaBackend.instance());
        List<Throwable> errors = new ArrayList<>();
        Set<String> loadedClasses = new HashSet<>();
        Iterator<Backend> it = ServiceLoader.load(Backend.class, loader).iterator();
        while (errors.size() < MAX_FAILURES) {
            Backend b;
            String name;
            try {
                if (!it.hasNext()) {
                    break;
                }
                b = it.next();
                name = b.name();
            } catch (ServiceConfigurationError | LinkageError | RuntimeException e) {
                // The iterator has moved past the failed provider; the next one still loads.
                errors.add(e);
                continue;
            }
            loadedClasses.add(b.getClass().getName());
            if (found.stream().noneMatch(x -> x.name().equals(name))) {
                found.add(b);
            }
        }
        for (String provider : providerNames(loader)) {
            if (loadedClasses.contains(provider)) {
                continue;
            }
            Throwable error = null;
            for (Throwable e : errors) {
                if (mentions(e, provider)) {
                    error = e;
                    break;
                }
            }
            if (error == null) {
                continue;
            }
            errors.remove(error);
            String name = nameOf(provider);
            if (found.stream().noneMatch(x -> x.name().equals(name))) {
                found.add(new Unloadable(name, "its classes could not be loaded (" + provider + "): "
                        + describe(error)));
            }
        }
        for (Throwable e : errors) {
            LOG.log(System.Logger.Level.WARNING, "mmca backend: a backend provider could not be loaded: " + describe(e));
        }
        found.sort(Comparator.comparingInt(Backends::priorityOf).reversed());
        return List.copyOf(found);
    }

    /** Provider class names listed in {@code loader}'s service files, in order. */
    private static List<String> providerNames(ClassLoader loader) {
        Set<String> names = new LinkedHashSet<>();
        try {
            Enumeration<URL> files = loader == null ? ClassLoader.getSystemResources(SERVICE_FILE)
                    : loader.getResources(SERVICE_FILE);
            while (files.hasMoreElements()) {
                URL url = files.nextElement();
                try (BufferedReader r = new BufferedReader(new InputStreamReader(url.openStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        int hash = line.indexOf('#');
                        String cn = (hash >= 0 ? line.substring(0, hash) : line).trim();
                        if (!cn.isEmpty()) {
                            names.add(cn);
                        }
                    }
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "mmca backend: cannot read " + url + ": " + e);
                }
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "mmca backend: cannot list " + SERVICE_FILE + ": " + e);
        }
        return new ArrayList<>(names);
    }

    /** {@code dev.mmca.cpu.CpuBackend} is {@code cpu}: the class's simple name without "Backend", in lower case. */
    static String nameOf(String providerClass) {
        String simple = providerClass.substring(Math.max(providerClass.lastIndexOf('.'), providerClass.lastIndexOf('$'))
                + 1);
        if (simple.endsWith("Backend") && simple.length() > "Backend".length()) {
            simple = simple.substring(0, simple.length() - "Backend".length());
        }
        return simple.toLowerCase(Locale.ROOT);
    }

    private static boolean mentions(Throwable e, String className) {
        String slashed = className.replace('.', '/');
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains(className) || m.contains(slashed))) {
                return true;
            }
        }
        return false;
    }

    /** An exception and its causes on one line: {@code Class: message <- Cause: message}. */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        int depth = 0;
        for (Throwable t = e; t != null && depth < 6; t = t.getCause() == t ? null : t.getCause(), depth++) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            String m = t.getMessage();
            if (t instanceof ServiceConfigurationError && m != null) {
                // "dev.mmca.backend.Backend: Provider X could not be instantiated": the message says it all
                sb.append(m.startsWith(Backend.class.getName() + ": ") ? m.substring(Backend.class.getName().length()
                        + 2) : m);
                continue;
            }
            sb.append(t.getClass().getSimpleName());
            if (m != null && !m.isBlank()) {
                sb.append(": ").append(m);
            }
        }
        return sb.toString();
    }

    /**
     * {@code b.availability()}, or unavailable with the reason when that call itself fails (a backend
     * whose classes are incomplete may fail there rather than when it is constructed).
     */
    public static Availability availabilityOf(Backend b) {
        try {
            Availability a = b.availability();
            return a != null ? a : Availability.unavailable("its availability check returned nothing");
        } catch (RuntimeException | LinkageError e) {
            return Availability.unavailable("its availability check failed: " + describe(e));
        }
    }

    private static Support supportOf(Backend b, MmcaConfig config) {
        try {
            Support s = b.supports(config);
            return s != null ? s : Support.no("its support check returned nothing");
        } catch (RuntimeException | LinkageError e) {
            return Support.no("its support check failed: " + describe(e));
        }
    }

    private static int priorityOf(Backend b) {
        try {
            return b.priority();
        } catch (RuntimeException | LinkageError e) {
            return Integer.MIN_VALUE;
        }
    }

    /** A listed backend whose classes could not be loaded or constructed: always unavailable, with the reason. */
    static final class Unloadable extends Backend {
        private final String name;
        private final String reason;

        Unloadable(String name, String reason) {
            this.name = name;
            this.reason = reason;
        }

        @Override public String name() { return name; }
        /** Below every loadable backend. */
        @Override public int priority() { return -1; }
        @Override public Availability availability() { return Availability.unavailable(reason); }
        @Override public Support supports(MmcaConfig config) { return Support.no(reason); }
        @Override public Support supports(AttentionProblem problem) { return Support.no(reason); }

        @Override
        protected Machine newMachine(List<PackedWeight> weights) {
            throw new BackendUnavailableException("backend '" + name + "' is not available: " + reason);
        }
    }

    /** The backend called {@code name}, available or not. */
    public static Backend byName(String name) {
        return byName(name, all());
    }

    private static Backend byName(String name, List<Backend> backends) {
        for (Backend b : backends) {
            if (b.name().equals(name)) {
                return b;
            }
        }
        List<String> names = new ArrayList<>();
        for (Backend b : backends) {
            names.add(b.name());
        }
        throw new IllegalArgumentException("backend: expected one of " + names + " or auto, got '" + name + "'");
    }

    /** {@code name} or {@code name:device} (e.g. {@code cuda:1}). */
    private static Backend named(String request, List<Backend> backends) {
        int colon = request.indexOf(':');
        if (colon < 0) {
            return byName(request, backends);
        }
        String device = request.substring(colon + 1).trim();
        int ordinal;
        try {
            ordinal = Integer.parseInt(device);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("backend: expected name or name:device with a device ordinal, got '"
                    + request + "'");
        }
        Backend b = byName(request.substring(0, colon).trim(), backends);
        if (b instanceof Unloadable) {
            throw new BackendUnavailableException("backend '" + request + "' is not available: "
                    + b.availability().reason());
        }
        return b.onDevice(ordinal);
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
        return select(request, config, all());
    }

    /** {@link #select(String, MmcaConfig)} among {@code backends} (highest priority first). */
    static Backend select(String request, MmcaConfig config, List<Backend> backends) {
        String source = request != null ? "requested" : describeDefaultSource();
        String r = request != null ? request.trim().toLowerCase(Locale.ROOT) : defaultRequest();
        if (!r.equals(AUTO)) {
            Backend b = named(r, backends);
            Availability a = availabilityOf(b);
            if (!a.isAvailable()) {
                throw new BackendUnavailableException("backend '" + r + "' (" + source + ") is not available: "
                        + a.reason());
            }
            if (config != null) {
                Support s = supportOf(b, config);
                if (!s.isSupported()) {
                    throw new BackendUnavailableException("backend '" + r + "' (" + source + ") does not support "
                            + config + ": " + s.reason());
                }
            }
            logOnce(b, source + "; " + a.reason());
            return b;
        }
        StringBuilder skipped = new StringBuilder();
        for (Backend b : backends) {
            Availability a = availabilityOf(b);
            if (!a.isAvailable()) {
                skipped.append("; ").append(b.name()).append(" unavailable (").append(a.reason()).append(')');
                continue;
            }
            if (config != null) {
                Support s = supportOf(b, config);
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
