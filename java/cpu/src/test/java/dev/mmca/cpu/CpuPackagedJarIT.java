package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backends;
import dev.mmca.testing.RandomInputs;
import dev.mmca.parity.Precision;
import dev.mmca.parity.Reference64;
import dev.mmca.testkit.ParityAssertions;
import dev.mmca.FloatTensor;
import org.junit.jupiter.api.Test;

/** Runs against the packaged jar (failsafe), so libraries missing from the jar fail the build. */
class CpuPackagedJarIT {
    @Test
    void nativeLibrariesLoadFromThePackagedJar() {
        String location = MmcaCpuNative.class.getProtectionDomain().getCodeSource().getLocation().toString();
        assertTrue(location.endsWith(".jar"), "binding class should come from the jar, came from " + location);
        assertNull(CpuRuntime.loadFailure(), () -> CpuRuntime.describe(CpuRuntime.loadFailure()));
        assertTrue(Backends.byName("cpu").availability().isAvailable(), Backends.byName("cpu").availability().reason());

        MmcaConfig config = MmcaConfig.builder().dim(40).heads(4).kvHeads(2).dimHead(16).build();
        MmcaWeights w = MmcaWeights.random(config, 4);
        FloatTensor v = RandomInputs.normal(1, 2, 9, 40);
        FloatTensor t = RandomInputs.normal(2, 2, 6, 40);
        try (SimpleMmca m = SimpleMmca.create(config, w, "cpu")) {
            MmcaOutput out = m.forward(v, t);
            Reference64.Output ref = Reference64.simpleMmca(config, w, v, t, null, null);
            ParityAssertions.assertWithin("visual", out.visual(), ref.visual, Precision.FP32);
            ParityAssertions.assertWithin("text", out.text(), ref.text, Precision.FP32);
        }
    }
}
