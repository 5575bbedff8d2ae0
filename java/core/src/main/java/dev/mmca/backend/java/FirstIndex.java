package dev.mmca.backend.java;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The smallest index that any task of a parallel kernel reported (-1: none), so that the error a call raises
 * names the same place (the first overflowed row or element) whatever the thread count and task order.
 */
final class FirstIndex {
    private final AtomicLong first = new AtomicLong(-1);

    /** Records {@code index}; negative values (nothing found) are ignored. */
    void report(long index) {
        if (index >= 0) {
            first.accumulateAndGet(index, (a, b) -> a < 0 ? b : Math.min(a, b));
        }
    }

    /** The smallest index reported, or -1. */
    long get() {
        return first.get();
    }
}
