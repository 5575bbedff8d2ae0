package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.PreparedModel;
import dev.mmca.plan.SimpleMmcaPlan;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Closing frees native memory; use after close is a clear exception; many calls do not leak. */
class CpuLifetimeTest {
    private static final MmcaConfig TINY = MmcaConfig.builder().dim(64).heads(2).kvHeads(1).dimHead(32).build();

    @Test
    void forwardAfterCloseThrowsClearException() {
        MmcaInputs in = new MmcaInputs(RandomInputs.normal(1, 1, 3, 64), RandomInputs.normal(2, 1, 2, 64), null, null);
        CpuMachine machine = new CpuMachine(SimpleMmcaPlan.of(TINY).packWeights(MmcaWeights.random(TINY, 1)));
        assertTrue(machine.nativeBytes() > 0, "packed weights live in native memory");
        machine.close();
        assertEquals(0, machine.nativeBytes());
        PreparedModel m = new CpuBackend().prepare(TINY, MmcaWeights.random(TINY, 1));
        m.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> m.forward(in, FloatTensor.zeros(1, 3, 64), FloatTensor.zeros(1, 2, 64)));
        assertTrue(e.getMessage().contains("after close"), e.getMessage());
        assertDoesNotThrow(m::close, "close is idempotent");

        SimpleMmca facade = SimpleMmca.create(TINY, MmcaWeights.random(TINY, 1), new CpuBackend());
        facade.close();
        assertThrows(IllegalStateException.class, () -> facade.forward(in));
    }

    @Test
    void hundredsOfThousandsOfSmallForwardsKeepResidentMemoryFlat() throws IOException {
        MmcaInputs heap = new MmcaInputs(RandomInputs.normal(1, 1, 4, 64), RandomInputs.normal(2, 1, 3, 64), null,
                RandomInputs.randomLengths(3, 1, 3, 1));
        MmcaInputs direct = new MmcaInputs(RandomInputs.direct(heap.visual()), RandomInputs.direct(heap.text()),
                null, null);
        FloatTensor vo = FloatTensor.zeros(1, 4, 64);
        FloatTensor to = FloatTensor.allocateDirect(1, 3, 64);
        try (PreparedModel m = new CpuBackend().prepare(TINY, MmcaWeights.random(TINY, 2))) {
            for (int i = 0; i < 20_000; i++) {
                m.forward(i % 2 == 0 ? heap : direct, vo, to);
            }
            long before = settledResidentKb();
            // A leak of 8 bytes a call grows every window of 100000 forwards by 800 kB (NativeMallocWindows: the
            // quietest of three windows is judged).
            int[] calls = {0};
            NativeMallocWindows windows = new NativeMallocWindows(100_000,
                    () -> m.forward(calls[0]++ % 2 == 0 ? heap : direct, vo, to));
            long after = settledResidentKb();
            System.out.printf("VmRSS before %d kB, after 300000 forwards %d kB (growth %d kB); native malloc growth per"
                    + " window of 100000 forwards %s%n", before, after, after - before, windows);
            assertTrue(windows.quietest < 512 * 1024, "native malloc in use grew in every window of 100000 forwards, by "
                    + windows);
            // Coarse (the JVM's own memory moves by some MB), but catches anything large.
            assertTrue(after - before < 32 * 1024, "resident memory grew by " + (after - before) + " kB");
        }
    }

    /** VmRSS after a full GC, so that Java heap churn does not hide (or fake) native growth. */
    static long settledResidentKb() throws IOException {
        System.gc();
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return residentKb();
    }

    static long residentKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("VmRSS not found in /proc/self/status");
    }
}
