package dev.mmca.testkit;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Support;
import dev.mmca.parity.KernelPath;
import dev.mmca.parity.KernelPaths;
import dev.mmca.parity.Launch;
import dev.mmca.plan.Machine;
import dev.mmca.plan.PackedWeight;
import java.util.List;
import java.util.Map;

/** Backends of the kit's own tests, listed in this module's test service files: they never compute. */
public final class StandInBackends {
    private StandInBackends() {
    }

    /** Never available. */
    public static final class Unavailable extends Backend {
        public Unavailable() {
        }

        @Override public String name() { return "standin"; }
        @Override public int priority() { return -1; }
        @Override public Availability availability() { return Availability.unavailable("a stand-in that never runs"); }
        @Override public Support supports(MmcaConfig config) { return Support.yes(); }
        @Override public Support supports(AttentionProblem problem) { return Support.yes(); }
        @Override protected Machine newMachine(List<PackedWeight> weights) { throw new AssertionError("never runs"); }
    }

    /** Available, with two paths (see {@link SwitchingPaths}); supports every width but 13. */
    public static final class Switching extends Backend {
        public Switching() {
        }

        @Override public String name() { return "switching"; }
        @Override public int priority() { return 5; }
        @Override public Availability availability() { return Availability.available("a stand-in with two paths"); }
        @Override public Support supports(MmcaConfig config) {
            return config.dim() == 13 ? Support.no("no kernel for dim 13") : Support.yes();
        }
        @Override public Support supports(AttentionProblem problem) { return Support.yes(); }
        @Override protected Machine newMachine(List<PackedWeight> weights) { throw new AssertionError("never runs"); }
    }

    /** Path {@code a} switches in this JVM (recorded in {@link #inForce}); path {@code b} is fixed at start-up. */
    public static final class SwitchingPaths implements KernelPaths {
        static volatile String inForce = "none";

        public SwitchingPaths() {
        }

        @Override
        public String backend() {
            return "switching";
        }

        @Override
        public List<KernelPath> paths(Backend backend) {
            KernelPath.Switch a = new KernelPath.Switch() {
                @Override
                public String obstacle(int threads) {
                    return null;
                }

                @Override
                public KernelPath.Selection select(int threads) {
                    String before = inForce;
                    inForce = "a";
                    return () -> inForce = before;
                }
            };
            KernelPath.Switch b = new KernelPath.Switch() {
                @Override
                public String obstacle(int threads) {
                    return "path b is chosen when a JVM starts";
                }

                @Override
                public KernelPath.Selection select(int threads) {
                    throw new AssertionError("never selected here");
                }
            };
            return List.of(KernelPath.builder(backend, "a").switcher(a).build(),
                    KernelPath.builder(backend, "b").switcher(b)
                            .launch(t -> Launch.ofProperties(Map.of("switching.path", "b"))).build());
        }
    }
}
