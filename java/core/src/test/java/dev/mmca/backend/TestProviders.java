package dev.mmca.backend;

import dev.mmca.MmcaConfig;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.util.List;

/** Backend providers that fail in the ways a jar without its dependencies fails, for the discovery tests. */
public final class TestProviders {
    private TestProviders() {
    }

    /** Construction fails as it does when a class the constructor needs is missing from the class path. */
    public static final class Exploding extends Backend {
        public Exploding() {
            throw new NoClassDefFoundError("org/example/MissingNativeBinding");
        }

        @Override public String name() { return "exploding"; }
        @Override public int priority() { return 50; }
        @Override public Availability availability() { return Availability.available("never reached"); }
        @Override public Support supports(MmcaConfig config) { return Support.yes(); }
        @Override public Support supports(dev.mmca.backend.AttentionProblem problem) { return Support.yes(); }
        @Override protected Machine newMachine(List<PackedWeight> weights) { throw new AssertionError(); }
    }

    /** Loads, but its availability check itself fails (it breaks the contract of never throwing). */
    public static final class Flaky extends Backend {
        public Flaky() {
        }

        @Override public String name() { return "flaky"; }
        @Override public int priority() { return 40; }
        @Override public Availability availability() { throw new NoClassDefFoundError("org/example/Probe"); }
        @Override public Support supports(MmcaConfig config) { return Support.yes(); }
        @Override public Support supports(dev.mmca.backend.AttentionProblem problem) { return Support.yes(); }
        @Override protected Machine newMachine(List<PackedWeight> weights) { throw new AssertionError(); }
    }

    /** A working provider listed after the broken ones: it must still be found. */
    public static final class Fine extends Backend {
        public Fine() {
        }

        @Override public String name() { return "fine"; }
        @Override public int priority() { return -5; }
        @Override public Availability availability() { return Availability.available("test provider"); }
        @Override public Support supports(MmcaConfig config) { return Support.yes(); }
        @Override public Support supports(dev.mmca.backend.AttentionProblem problem) { return Support.yes(); }
        @Override protected Machine newMachine(List<PackedWeight> weights) { throw new AssertionError(); }
    }
}
