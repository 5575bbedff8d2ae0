package dev.mmca.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaOutput;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.PerturbedBackend;
import dev.mmca.backend.java.JavaBackend;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The parity engine: verdicts, rows, thread counts, fresh JVMs, skips, and a path that breaks. */
class ParityCheckTest {
    /** CROSS and causal with masks, so that decoding applies and padding is exercised. */
    private static final ParityCase CASE = ParityCases.sweep(0).stream()
            .filter(c -> c.name().equals("all-masked-visual-row")).findFirst().orElseThrow();

    /** The java path in force in this JVM (java/vector or java/scalar): the one that runs here. */
    private static final KernelPath JAVA_PATH = KernelPaths.of(JavaBackend.instance()).get(0);
    private static final String JAVA = JAVA_PATH.id();

    private static List<ParityScenario> scenarios(ParityCase c) {
        return ParityScenarios.standard(c.config(), c.weights(), c.inputs());
    }

    private static ParityReport.Row row(ParityReport r, String path, String output) {
        return r.rows().stream().filter(x -> x.path().equals(path) && x.output().equals(output)).findFirst()
                .orElseThrow(() -> new AssertionError("no row " + path + " " + output + " in\n" + r.table()));
    }

    @Test
    void theJavaPathPassesWithTheErrorsTheTestsMeasure() {
        int here = JavaBackend.threads();
        ParityReport r = ParityCheck.builder(scenarios(CASE)).paths(KernelPaths.of(JavaBackend.instance()))
                .threads(List.of(here)).build().run();
        assertTrue(r.passed(), r.table());
        assertTrue(r.comparedAny());
        Reference64.Output ref = Reference64.simpleMmca(CASE.config(), CASE.weights(), CASE.inputs());
        try (SimpleMmca m = SimpleMmca.create(CASE.config(), CASE.weights(), JavaBackend.instance())) {
            MmcaOutput out = m.forward(CASE.inputs());
            assertEquals(Reference64.relativeError(out.visual(), ref.visual),
                    row(r, JAVA, "forward.visual").comparison().relativeError());
            assertEquals(Reference64.relativeError(out.text(), ref.text),
                    row(r, JAVA, "forward.text").comparison().relativeError());
        }
        ParityReport.Row decoded = row(r, JAVA, "decoding.text");
        assertEquals("forward.text", decoded.against());
        assertEquals(Precision.FP32.reorderingTolerance(), decoded.tolerance());
        assertEquals(ParityReport.Status.PASS, decoded.status());
        assertEquals(0.0, row(r, JAVA, "decoding.visual").tolerance(), "encoding is the forward's visual");
        assertEquals(Precision.FP32.relativeTolerance(), row(r, JAVA, "forward.text").tolerance());
        assertTrue(r.table().contains(JAVA), r.table());
    }

    @Test
    void theOtherJavaKernelSetIsReportedWithTheLaunchThatRunsItWhenThereIsNoLauncher() {
        List<KernelPath> java = KernelPaths.of(JavaBackend.instance());
        KernelPath other = java.get(1);
        ParityReport r = ParityCheck.builder(scenarios(CASE)).paths(java).threads(List.of(JavaBackend.threads()))
                .build().run();
        assertTrue(r.passed(), r.table());
        ParityReport.Row skipped = row(r, other.id(), "*");
        assertEquals(ParityReport.Status.SKIPPED, skipped.status());
        if (other.availability().isAvailable()) {
            assertTrue(skipped.message().contains("the java kernel set is fixed when the JVM starts")
                    && skipped.message().contains("-Dmmca.java.kernels=" + other.name()), skipped.message());
        }
    }

    @Test
    void aPerturbedBackendFailsItsForwardAndIsNamed() {
        Backend broken = new PerturbedBackend(1e-3);
        List<KernelPath> paths = new ArrayList<>(KernelPaths.of(JavaBackend.instance()));
        paths.add(KernelPath.asIs(broken));
        ParityReport r = ParityCheck.builder(scenarios(CASE)).paths(paths).build().run();
        assertFalse(r.passed(), r.table());
        assertEquals(List.of("perturbed/default"), List.copyOf(r.failedPaths()));
        ParityReport.Row visual = row(r, "perturbed/default", "forward.visual");
        assertEquals(ParityReport.Status.FAIL, visual.status());
        assertTrue(visual.comparison().relativeError() > 5e-4 && visual.comparison().relativeError() < 2e-3,
                "about the perturbation: " + visual.comparison());
        assertTrue(visual.message().contains("above the fp32 bound 1e-05"), visual.message());
        // its decoding agrees with its own forward: the check says which part is broken
        assertEquals(ParityReport.Status.PASS, row(r, "perturbed/default", "decoding.text").status());
        assertEquals(ParityReport.Status.PASS, row(r, JAVA, "forward.text").status());
        String json = r.json(Map.of("case", CASE.name()));
        assertTrue(json.startsWith("{\"case\":\"all-masked-visual-row\",\"passed\":false,\"failed_paths\":"
                + "[\"perturbed/default\"]"), json);
        assertTrue(r.table().contains("perturbed/default forward.visual: FAIL: relative error"), r.table());
    }

    @Test
    void resultsThatDependOnTheThreadCountFail() {
        AtomicInteger threads = new AtomicInteger(1);
        // bits change with the thread count, by far less than the bound
        Backend flaky = new PerturbedBackend(() -> threads.get() == 1 ? 0 : 1e-7);
        KernelPath path = KernelPath.builder(flaky, "threaded").threads(threads::get).switcher(new KernelPath.Switch() {
            @Override
            public String obstacle(int t) {
                return null;
            }

            @Override
            public KernelPath.Selection select(int t) {
                int before = threads.getAndSet(t == 0 ? threads.get() : t);
                return () -> threads.set(before);
            }
        }).build();
        ParityReport r = ParityCheck.builder(scenarios(CASE)).paths(List.of(path)).threads(List.of(1, 2, 1))
                .build().run();
        assertFalse(r.passed(), r.table());
        ParityReport.Row visual = row(r, "perturbed/threaded", "forward.visual");
        assertTrue(visual.comparison().within(visual.tolerance()), "within the bound: " + visual.comparison());
        assertEquals(Boolean.FALSE, visual.threadsIdentical());
        assertEquals(ParityReport.Status.FAIL, visual.status());
        assertTrue(visual.threadsNote().startsWith("threads 1 and 2 differ at ["), visual.threadsNote());
        assertEquals(List.of(1, 2), List.copyOf(visual.millis().keySet()), "duplicate counts run once");
        assertEquals(1, threads.get(), "the setting was restored");
    }

    @Test
    void threadCountsFixedAtStartUpRunThroughTheLauncherOrAreReportedAsNotChecked() {
        int here = JavaBackend.threads();
        int other = here + 1;
        List<ParityScenario> scenarios = scenarios(CASE);
        List<String> launched = new ArrayList<>();
        PathLauncher inProcess = (path, t, launch, names) -> {
            launched.add(path.id() + " " + t + " " + new TreeMap<>(launch.systemProperties()) + " " + names);
            Map<String, FloatTensor> outputs = new LinkedHashMap<>();
            Map<String, Long> nanos = new LinkedHashMap<>();
            for (ParityScenario s : scenarios) {
                ParityScenario.Run run = s.run(path.backend());
                run.outputs().forEach((k, v) -> outputs.put(s.name() + "." + k, v));
                nanos.put(s.name(), run.nanos());
            }
            return new PathRun(outputs, nanos, "stand-in for a fresh JVM");
        };
        ParityReport r = ParityCheck.builder(scenarios).paths(List.of(JAVA_PATH))
                .threads(List.of(here, other)).launcher(inProcess).build().run();
        assertTrue(r.passed(), r.table());
        assertEquals(List.of(JAVA + " " + other + " {mmca.java.kernels=" + JAVA_PATH.name() + ", mmca.java.threads="
                + other + "} [forward, decoding]"), launched);
        ParityReport.Row text = row(r, JAVA, "forward.text");
        assertEquals(Boolean.TRUE, text.threadsIdentical());
        assertEquals("threads " + here + "," + other, text.threadsNote());

        ParityReport alone = ParityCheck.builder(scenarios).paths(List.of(JAVA_PATH))
                .threads(List.of(here, other)).build().run();
        assertTrue(alone.passed(), alone.table());
        ParityReport.Row unchecked = row(alone, JAVA, "forward.text");
        assertNull(unchecked.threadsIdentical());
        assertEquals("only threads " + here + " ran; not run at " + other, unchecked.threadsNote());
    }

    @Test
    void anUnavailableBackendIsSkippedUnlessAskedForAndAPathTheHostLacksIsSkippedEither() {
        Backend absentBackend = new Backend() {
            @Override public String name() { return "absent"; }
            @Override public int priority() { return -1; }
            @Override public Availability availability() { return Availability.unavailable("needs a device"); }
            @Override public dev.mmca.backend.Support supports(dev.mmca.MmcaConfig c) {
                return dev.mmca.backend.Support.yes();
            }
            @Override public dev.mmca.backend.Support supports(dev.mmca.backend.AttentionProblem p) {
                return dev.mmca.backend.Support.yes();
            }
            @Override protected dev.mmca.plan.Machine newMachine(List<dev.mmca.plan.PackedWeight> w) {
                throw new AssertionError("never prepared");
            }
        };
        List<KernelPath> absent = KernelPaths.of(absentBackend);
        assertEquals(1, absent.size());
        assertEquals("absent/*", absent.get(0).id());
        ParityReport skipped = ParityCheck.builder(scenarios(CASE)).paths(absent).build().run();
        assertTrue(skipped.passed());
        assertFalse(skipped.comparedAny(), "nothing was compared");
        assertEquals(ParityReport.Status.SKIPPED, skipped.rows().get(0).status());
        assertEquals("not available: needs a device", skipped.rows().get(0).message());
        ParityReport required = ParityCheck.builder(scenarios(CASE)).paths(absent).require(List.of("absent"))
                .build().run();
        assertFalse(required.passed());
        assertEquals(ParityReport.Status.ERROR, required.rows().get(0).status());
        assertEquals("requested but not available: needs a device", required.rows().get(0).message());

        KernelPath lacking = KernelPath.builder(JavaBackend.instance(), "wider")
                .availability(Availability.unavailable("this CPU lacks avx1024")).build();
        ParityReport java = ParityCheck.builder(scenarios(CASE)).paths(List.of(lacking)).require(List.of("java"))
                .build().run();
        assertTrue(java.passed(), java.table());
        assertEquals(ParityReport.Status.SKIPPED, java.rows().get(0).status());
    }

    @Test
    void decodingDoesNotApplyToSeedAndAFailingScenarioIsAnError() {
        ParityCase seed = ParityCases.sweep(0).stream().filter(c -> c.name().equals("seed-causal-masks")).findFirst()
                .orElseThrow();
        List<ParityScenario> scenarios = new ArrayList<>(scenarios(seed));
        scenarios.add(new ParityScenario() {
            @Override public String name() { return "exploding"; }
            @Override public String inapplicable() { return null; }
            @Override public String unsupportedBy(Backend backend) { return null; }
            @Override public Run run(Backend backend) { throw new IllegalStateException("kernel fault"); }
            @Override public Expectation expectation(String output, Precision p, Map<String, FloatTensor> o) {
                throw new AssertionError("never reached");
            }
        });
        ParityReport r = ParityCheck.builder(scenarios).paths(KernelPaths.of(JavaBackend.instance())).build().run();
        ParityReport.Row decoding = row(r, JAVA, "decoding.*");
        assertEquals(ParityReport.Status.NOT_APPLICABLE, decoding.status());
        assertTrue(decoding.message().contains("composition SEED"), decoding.message());
        ParityReport.Row error = row(r, JAVA, "*");
        assertEquals(ParityReport.Status.ERROR, error.status());
        assertEquals("IllegalStateException: kernel fault", error.message());
        assertFalse(r.passed());
    }

    @Test
    void decodedRowsThatDriftFromTheForwardFailWhileTheForwardPasses() {
        ParityScenario decoding = new DecodingScenario(CASE.config(), CASE.weights(), CASE.inputs());
        // decoding whose text rows are off by 1e-5 relative: within the float64 bound, not the reordering bound
        ParityScenario drifting = new DriftingScenario(decoding, "text", 1e-5f);
        List<ParityScenario> scenarios = List.of(new ForwardScenario(CASE.config(), CASE.weights(), CASE.inputs()),
                drifting);
        ParityReport r = ParityCheck.builder(scenarios).paths(KernelPaths.of(JavaBackend.instance())).build().run();
        assertFalse(r.passed(), r.table());
        assertEquals(List.of(JAVA), List.copyOf(r.failedPaths()));
        assertEquals(ParityReport.Status.PASS, row(r, JAVA, "forward.text").status());
        assertEquals(ParityReport.Status.PASS, row(r, JAVA, "decoding.visual").status());
        ParityReport.Row text = row(r, JAVA, "decoding.text");
        assertEquals(ParityReport.Status.FAIL, text.status());
        assertTrue(text.message().startsWith("relative error ") && text.message().contains("against forward.text is"
                + " above the fp32 bound 1e-06"), text.message());
    }
}
