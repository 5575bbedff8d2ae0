package dev.mmca.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackendsTest {
    static final MmcaConfig CONFIG = MmcaConfig.builder().dim(16).heads(2).build();

    @Test
    void javaIsAlwaysKnownAndAvailable() {
        assertTrue(Backends.names().contains("java"));
        Backend java = Backends.select("java", CONFIG);
        assertEquals("java", java.name());
        assertTrue(java.availability().isAvailable());
    }

    @Test
    void autoPicksAnAvailableBackend() {
        Backend b = Backends.select("auto", CONFIG);
        assertTrue(b.availability().isAvailable());
        for (Backend other : Backends.all()) {
            if (other.priority() > b.priority()) {
                assertTrue(!other.availability().isAvailable() || !other.supports(CONFIG).isSupported(),
                        other.name() + " outranks " + b.name() + " and is usable");
            }
        }
    }

    @Test
    void unknownNameIsAnErrorListingTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backends.select("tpu", CONFIG));
        assertTrue(e.getMessage().startsWith("backend: expected one of [") && e.getMessage().contains("got 'tpu'"),
                e.getMessage());
    }

    @Test
    void systemPropertySelectsTheBackend() {
        String old = System.getProperty(Backends.PROPERTY);
        System.setProperty(Backends.PROPERTY, "java");
        try {
            assertEquals("java", Backends.defaultRequest());
            assertEquals("java", Backends.select(CONFIG).name());
        } finally {
            if (old == null) {
                System.clearProperty(Backends.PROPERTY);
            } else {
                System.setProperty(Backends.PROPERTY, old);
            }
        }
    }

    /** A backend that supports nothing: prepare and attention must refuse with its reason, never dispatch. */
    static final class Picky extends Backend {
        boolean dispatched;

        @Override public String name() { return "picky"; }
        @Override public int priority() { return 99; }
        @Override public Availability availability() { return Availability.available("test"); }
        @Override public Support supports(MmcaConfig config) { return Support.no("only odd moons"); }
        @Override public Support supports(AttentionProblem problem) { return Support.no("only odd moons"); }
        @Override protected Machine newMachine(List<PackedWeight> weights) {
            dispatched = true;
            return null;
        }
    }

    @Test
    void supportsAndDispatchCannotDisagree() {
        Picky p = new Picky();
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> p.prepare(CONFIG, MmcaWeights.random(CONFIG, 1)));
        assertTrue(e.getMessage().contains("only odd moons"), e.getMessage());
        AttentionProblem ap = AttentionProblem.builder().batch(1).heads(1).kvHeads(1).queries(1).keys(1).dimHead(1)
                .build();
        FloatTensor x = FloatTensor.zeros(1, 1, 1);
        assertThrows(BackendUnavailableException.class, () -> p.attention(ap, x, x, x, x));
        assertTrue(!p.dispatched);
    }

    @Test
    void attentionChecksTensorShapesBeforeDispatch() {
        AttentionProblem ap = AttentionProblem.builder().batch(1).heads(4).kvHeads(2).queries(3).keys(5).dimHead(2)
                .build();
        Backend java = Backends.byName("java");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> java.attention(ap,
                FloatTensor.zeros(1, 3, 8), FloatTensor.zeros(1, 5, 8), FloatTensor.zeros(1, 5, 4),
                FloatTensor.zeros(1, 3, 8)));
        assertTrue(e.getMessage().startsWith("k: expected shape [1, 5, 4], got [1, 5, 8]"), e.getMessage());
    }

    @Test
    void attentionProblemValidatesMasks() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionProblem.builder().batch(2).heads(2).kvHeads(1).queries(3).keys(4).dimHead(2)
                        .keyMask(dev.mmca.Mask.all(2, 3)).build());
        assertTrue(e.getMessage().startsWith("keyMask: expected shape [2, 4], got [2, 3]"), e.getMessage());
    }

    @Test
    void deviceSuffixNeedsABackendWithDevices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.select("java:1", CONFIG));
        assertEquals("backend: 'java' runs on the host and has no devices, got 'java:1'", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Backends.select("java:x", CONFIG));
        assertTrue(e.getMessage().contains("expected name or name:device with a device ordinal, got 'java:x'"),
                e.getMessage());
    }

    /** A class loader whose service file lists {@code providers}, over the test classes. */
    private static java.net.URLClassLoader listing(java.nio.file.Path dir, String... providers) throws Exception {
        java.nio.file.Path services = java.nio.file.Files.createDirectories(dir.resolve("META-INF/services"));
        java.nio.file.Files.writeString(services.resolve(Backend.class.getName()),
                "# test providers\n" + String.join("\n", providers) + "\n");
        return new java.net.URLClassLoader(new java.net.URL[] {dir.toUri().toURL()}, BackendsTest.class.getClassLoader());
    }

    @Test
    void aProviderThatCannotLoadOrConstructIsListedUnavailableWithTheReasonAndTheOthersStillLoad(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        try (java.net.URLClassLoader loader = listing(dir, "dev.mmca.absent.AbsentBackend",
                TestProviders.Exploding.class.getName(), TestProviders.Flaky.class.getName(),
                TestProviders.Fine.class.getName())) {
            List<Backend> found = Backends.discover(loader);
            List<String> names = found.stream().map(Backend::name).toList();
            assertEquals(List.of("flaky", "java", "absent", "exploding", "fine"), names, "by priority");
            Availability absent = Backends.availabilityOf(found.get(2));
            assertTrue(!absent.isAvailable() && absent.reason().contains("dev.mmca.absent.AbsentBackend")
                    && absent.reason().contains("not found"), absent.reason());
            Availability exploding = Backends.availabilityOf(found.get(3));
            assertTrue(!exploding.isAvailable() && exploding.reason().contains("could not be instantiated")
                    && exploding.reason().contains("NoClassDefFoundError: org/example/MissingNativeBinding"),
                    exploding.reason());
            Availability flaky = Backends.availabilityOf(found.get(0));
            assertTrue(!flaky.isAvailable() && flaky.reason().contains("availability check failed")
                    && flaky.reason().contains("org/example/Probe"), flaky.reason());

            assertEquals("java", Backends.select("auto", CONFIG, found).name(), "auto moves on");
            assertEquals("java", Backends.select("java", CONFIG, found).name());
            assertEquals("fine", Backends.select("fine", CONFIG, found).name());
            BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                    () -> Backends.select("exploding", CONFIG, found));
            assertTrue(e.getMessage().startsWith("backend 'exploding' (requested) is not available: its classes could"
                    + " not be loaded (" + TestProviders.Exploding.class.getName() + ")"), e.getMessage());
            e = assertThrows(BackendUnavailableException.class, () -> Backends.select("absent:1", CONFIG, found));
            assertTrue(e.getMessage().contains("not found"), e.getMessage());
            e = assertThrows(BackendUnavailableException.class, () -> Backends.select("flaky", CONFIG, found));
            assertTrue(e.getMessage().contains("org/example/Probe"), e.getMessage());
        }
    }

    @Test
    void providerNamesComeFromTheClassName() {
        assertEquals("cpu", Backends.nameOf("dev.mmca.cpu.CpuBackend"));
        assertEquals("cuda", Backends.nameOf("dev.mmca.cuda.CudaBackend"));
        assertEquals("exploding", Backends.nameOf("dev.mmca.backend.TestProviders$Exploding"));
        assertEquals("backend", Backends.nameOf("x.Backend"));
    }
}
