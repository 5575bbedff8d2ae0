package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

class TaskBackendTest {
    private static final BooleanSupplier CUDA = () -> true;
    private static final BooleanSupplier NO_CUDA = () -> false;

    @Test
    void cudaTakesTheTasksFirstGpu() {
        assertEquals("cuda:1", TaskBackend.request("cuda", new String[] {"1"}, NO_CUDA));
        assertEquals("cuda:3", TaskBackend.request(" CUDA ", new String[] {"3", "0"}, NO_CUDA));
    }

    @Test
    void autoTakesTheTasksGpuOnlyWhereTheCudaBackendCanRun() {
        assertEquals("cuda:2", TaskBackend.request("auto", new String[] {"2"}, CUDA));
        assertEquals("auto", TaskBackend.request("auto", new String[] {"2"}, NO_CUDA));
    }

    @Test
    void withoutAGpuOrForOtherBackendsTheRequestStays() {
        AtomicInteger asked = new AtomicInteger();
        BooleanSupplier counting = () -> asked.incrementAndGet() > 0;
        assertEquals("cuda", TaskBackend.request("cuda", null, counting));
        assertEquals("auto", TaskBackend.request("auto", new String[0], counting));
        assertEquals("cpu", TaskBackend.request("cpu", new String[] {"0"}, counting));
        assertEquals("java", TaskBackend.request("Java", new String[] {"0"}, counting));
        assertEquals("cuda:5", TaskBackend.request("cuda:5", new String[] {"0"}, counting), "a named device wins");
        assertEquals(0, asked.get(), "the cuda probe is for auto with a GPU only");
    }

    @Test
    void anAddressThatIsNotADeviceOrdinalIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TaskBackend.request("cuda", new String[] {"GPU-5e2f"}, CUDA));
        assertTrue(e.getMessage().startsWith("spark task resource 'gpu': expected a CUDA device ordinal such as 0 as"
                + " the first address, got 'GPU-5e2f'"), e.getMessage());
    }

    @Test
    void outsideATaskTheRequestStays() {
        assertEquals("cpu", TaskBackend.forCurrentTask("cpu"));
        assertEquals("cuda", TaskBackend.forCurrentTask("cuda"));
    }
}
