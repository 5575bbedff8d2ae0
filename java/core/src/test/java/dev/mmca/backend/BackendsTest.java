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
}
