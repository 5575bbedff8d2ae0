package dev.mmca.testkit;

import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.Extension;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The invocations of {@link ForEachKernelPath} and {@link ForEachBackend}: one per path, named after it
 * ({@code [cpu/avx2, fp32]}); a runnable path is selected before the test ({@link KernelPath#select}) and
 * restored after it; a path the host cannot run is skipped with the reason.
 *
 * <p>System property {@value #REQUIRE_PROPERTY}: backend names or path ids ({@code cuda}, {@code cpu/avx512}) or
 * {@code all}, comma-separated; an invocation of a required path that cannot run fails instead of being skipped,
 * so that a release gate on a GPU host cannot pass by skipping the GPU.
 */
public final class KernelPathInvocations implements TestTemplateInvocationContextProvider {
    /** System property: the backends or paths that must run, not be skipped. */
    public static final String REQUIRE_PROPERTY = "mmca.testkit.require";

    /** Used by {@link org.junit.jupiter.api.extension.ExtendWith}. */
    public KernelPathInvocations() {
    }

    @Override
    public boolean supportsTestTemplate(ExtensionContext context) {
        return context.getTestMethod().map(m -> AnnotationSupport.isAnnotated(m, ForEachKernelPath.class)
                || AnnotationSupport.isAnnotated(m, ForEachBackend.class)).orElse(false);
    }

    @Override
    public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(ExtensionContext context) {
        Method m = context.getRequiredTestMethod();
        Optional<ForEachKernelPath> every = AnnotationSupport.findAnnotation(m, ForEachKernelPath.class);
        List<String> names = every.map(a -> Arrays.asList(a.backends()))
                .orElseGet(() -> Arrays.asList(AnnotationSupport.findAnnotation(m, ForEachBackend.class)
                        .orElseThrow().value()));
        return entries(names, every.isPresent()).stream().map(Invocation::new);
    }

    /** One invocation: a path, or (path null) a named backend that is not on the class path. */
    record Entry(String id, KernelPath path, String skipReason) {
    }

    /** The invocations for backends {@code names} (empty: all), every path or each backend's first. */
    static List<Entry> entries(List<String> names, boolean everyPath) {
        List<Backend> backends = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        if (names.isEmpty()) {
            backends.addAll(Backends.all());
        }
        for (String name : names) {
            Optional<Backend> b = Backends.all().stream().filter(x -> x.name().equals(name)).findFirst();
            if (b.isPresent()) {
                backends.add(b.get());
            } else {
                entries.add(new Entry(name, null, "backend '" + name + "' is not on the class path (found "
                        + Backends.names() + ")"));
            }
        }
        for (Backend b : backends) {
            List<KernelPath> paths = KernelPaths.of(b);
            for (KernelPath p : everyPath ? paths : paths.subList(0, 1)) {
                String obstacle = p.obstacleHere(0);
                if (obstacle != null && p.availability().isAvailable()) {
                    Launch launch = p.launch(0);
                    obstacle += launch == null ? "" : " (a JVM started as '" + launch.describe() + "' runs it)";
                }
                entries.add(new Entry(p.id(), p, obstacle));
            }
        }
        return entries;
    }

    /** Whether {@value #REQUIRE_PROPERTY} names {@code id} ({@code backend/path}), its backend, or {@code all}. */
    static boolean required(String id) {
        String value = System.getProperty(REQUIRE_PROPERTY, "");
        Set<String> wanted = Arrays.stream(value.split(",")).map(s -> s.trim().toLowerCase(Locale.ROOT))
                .filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        String backend = id.contains("/") ? id.substring(0, id.indexOf('/')) : id;
        return wanted.contains("all") || wanted.contains(id) || wanted.contains(backend);
    }

    private static final class Invocation implements TestTemplateInvocationContext {
        private final Entry entry;

        Invocation(Entry entry) {
            this.entry = entry;
        }

        @Override
        public String getDisplayName(int invocationIndex) {
            return "[" + entry.id() + (entry.path() == null ? "" : ", " + entry.path().precision().label()) + "]";
        }

        @Override
        public List<Extension> getAdditionalExtensions() {
            List<Extension> extensions = new ArrayList<>();
            if (entry.path() != null) {
                extensions.add(new PathParameter(entry.path()));
            }
            if (entry.skipReason() == null) {
                extensions.add(new PathSelection(entry.path()));
            } else if (required(entry.id())) {
                extensions.add((BeforeEachCallback) c -> {
                    throw new AssertionError(REQUIRE_PROPERTY + " requires " + entry.id() + ", which cannot run here: "
                            + entry.skipReason());
                });
            } else {
                ConditionEvaluationResult skip = ConditionEvaluationResult.disabled(entry.id() + ": "
                        + entry.skipReason());
                extensions.add((ExecutionCondition) c -> skip);
            }
            return extensions;
        }
    }

    /** Resolves a {@link KernelPath} parameter. */
    private static final class PathParameter implements ParameterResolver {
        private final KernelPath path;

        PathParameter(KernelPath path) {
            this.path = path;
        }

        @Override
        public boolean supportsParameter(ParameterContext p, ExtensionContext c) {
            return p.getParameter().getType() == KernelPath.class;
        }

        @Override
        public Object resolveParameter(ParameterContext p, ExtensionContext c) {
            return path;
        }
    }

    /** Puts the path in force for the invocation and restores what was in force after it. */
    private static final class PathSelection implements BeforeEachCallback, AfterEachCallback {
        private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(
                KernelPathInvocations.class);
        private final KernelPath path;

        PathSelection(KernelPath path) {
            this.path = path;
        }

        @Override
        public void beforeEach(ExtensionContext context) {
            context.getStore(NAMESPACE).put(context.getUniqueId(), path.select(0));
        }

        @Override
        public void afterEach(ExtensionContext context) {
            KernelPath.Selection s = context.getStore(NAMESPACE).remove(context.getUniqueId(), KernelPath.Selection.class);
            if (s != null) {
                s.close();
            }
        }
    }
}
