package dev.mmca.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloserTest {
    @Test
    void closesNewestFirstAndEveryOneEvenWhenSomeFail() {
        List<String> closed = new ArrayList<>();
        IllegalStateException second = new IllegalStateException("b failed");
        IllegalStateException third = new IllegalStateException("c failed");
        Closer c = new Closer();
        c.register(() -> closed.add("a"));
        c.register(() -> {
            closed.add("b");
            throw second;
        });
        c.register(() -> {
            closed.add("c");
            throw third;
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, c::close);
        assertEquals(List.of("c", "b", "a"), closed);
        assertSame(third, e, "the first failure (of the newest resource) is thrown");
        assertEquals(1, e.getSuppressed().length);
        assertSame(second, e.getSuppressed()[0]);
        assertTrue(c.isEmpty());
        c.close();  // idempotent: nothing left, nothing thrown
        assertEquals(3, closed.size());
    }

    @Test
    void checkedExceptionsAreWrapped() {
        Closer c = new Closer();
        c.register(() -> {
            throw new java.io.IOException("disk");
        });
        RuntimeException e = assertThrows(RuntimeException.class, c::close);
        assertTrue(e.getCause() instanceof java.io.IOException);
    }
}
