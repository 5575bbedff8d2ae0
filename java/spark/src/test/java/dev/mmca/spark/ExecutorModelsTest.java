package dev.mmca.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.Semaphore;
import org.junit.jupiter.api.Test;

class ExecutorModelsTest {
    @Test
    void forwardPermitsAreSharedPerModelAndSizedByComputeThreads() {
        Semaphore one = ExecutorModels.forwards("/w/a.safetensors", "cpu", 1);
        assertSame(one, ExecutorModels.forwards("/w/a.safetensors", "cpu", 1), "tasks of one JVM share the permits");
        assertEquals(1, one.availablePermits());
        assertEquals(3, ExecutorModels.forwards("/w/a.safetensors", "cpu", 3).availablePermits());
        assertNotSame(one, ExecutorModels.forwards("/w/a.safetensors", "cuda:1", 1), "another device, other permits");
        assertNotSame(one, ExecutorModels.forwards("/w/b.safetensors", "cpu", 1));
    }
}
