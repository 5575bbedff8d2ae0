package dev.mmca.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.backend.Backends;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * The kit's annotations, run on sample tests through the JUnit launcher: one invocation per path, the path in force
 * during its invocation and restored after, the others skipped with their reason, and failed when required.
 */
class KernelPathInvocationsTest {
    /** Run only through {@link #run}; what each invocation saw. */
    static class Sample {
        static final List<String> SEEN = new CopyOnWriteArrayList<>();

        @ForEachKernelPath
        void everyPath(KernelPath path) {
            SEEN.add("every " + path.id() + " with " + StandInBackends.SwitchingPaths.inForce + " in force");
        }

        @ForEachBackend({"java", "nosuch"})
        void named(KernelPath path) {
            SEEN.add("named " + path.id());
        }
    }

    /** Outcome per invocation display name: "ok", "skipped: reason" or "failed: message". */
    private static Map<String, String> run(Class<?> tests) {
        Map<String, String> outcomes = new LinkedHashMap<>();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                outcomes.put(name(id), "skipped: " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (id.isTest()) {
                    outcomes.put(name(id), result.getStatus() == TestExecutionResult.Status.SUCCESSFUL ? "ok"
                            : "failed: " + result.getThrowable().map(Throwable::getMessage).orElse("?"));
                }
            }

            private String name(TestIdentifier id) {
                String method = id.getLegacyReportingName().replaceAll("\\(.*", "");
                return method + " " + id.getDisplayName();
            }
        };
        Launcher launcher = LauncherFactory.create();
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(DiscoverySelectors.selectClass(tests))
                .build(), listener);
        return outcomes;
    }

    @Test
    void oneInvocationPerPathWithThePathInForceAndTheOthersSkippedWithTheirReason() {
        Sample.SEEN.clear();
        Map<String, String> outcomes = run(Sample.class);
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("everyPath [switching/a, fp32]", "ok");
        expected.put("everyPath [switching/b, fp32]", "skipped: switching/b: path b is chosen when a JVM starts (a JVM"
                + " started as 'java -Dswitching.path=b' runs it)");
        // the java kernel set in force runs; the other one is fixed when a JVM starts
        List<KernelPath> java = KernelPaths.of(Backends.byName("java"));
        String here = java.get(0).id();
        String other = java.get(1).id();
        expected.put("everyPath [" + here + ", fp32]", "ok");
        expected.put("everyPath [" + other + ", fp32]", "skipped: " + other + ": " + java.get(1).obstacleHere(0)
                + " (a JVM started as '" + java.get(1).launch(0).describe() + "' runs it)");
        expected.put("everyPath [standin/*, fp32]", "skipped: standin/*: a stand-in that never runs");
        expected.put("named [" + here + ", fp32]", "ok");
        expected.put("named [nosuch]", "skipped: nosuch: backend 'nosuch' is not on the class path (found [switching,"
                + " java, standin])");
        assertEquals(expected, outcomes);
        // the order of test methods is JUnit's; within one method, invocations follow the paths
        assertEquals(3, Sample.SEEN.size(), Sample.SEEN.toString());
        assertEquals(Set.of("every switching/a with a in force", "every " + here + " with none in force",
                "named " + here), Set.copyOf(Sample.SEEN));
        assertTrue(Sample.SEEN.indexOf("every switching/a with a in force")
                < Sample.SEEN.indexOf("every " + here + " with none in force"), "highest priority first");
        assertEquals("none", StandInBackends.SwitchingPaths.inForce, "restored after the invocation");
    }

    @Test
    void aRequiredPathThatCannotRunFailsInsteadOfBeingSkipped() {
        String old = System.getProperty(KernelPathInvocations.REQUIRE_PROPERTY);
        System.setProperty(KernelPathInvocations.REQUIRE_PROPERTY, "standin, switching/b");
        try {
            Map<String, String> outcomes = run(Sample.class);
            assertEquals("failed: mmca.testkit.require requires standin/*, which cannot run here: a stand-in that never"
                    + " runs", outcomes.get("everyPath [standin/*, fp32]"));
            assertTrue(outcomes.get("everyPath [switching/b, fp32]").startsWith("failed: mmca.testkit.require requires"
                    + " switching/b"), outcomes.toString());
            assertEquals("ok", outcomes.get("everyPath [switching/a, fp32]"));
            assertTrue(outcomes.get("named [nosuch]").startsWith("skipped: "), "not required: " + outcomes);
        } finally {
            if (old == null) {
                System.clearProperty(KernelPathInvocations.REQUIRE_PROPERTY);
            } else {
                System.setProperty(KernelPathInvocations.REQUIRE_PROPERTY, old);
            }
        }
    }
}
