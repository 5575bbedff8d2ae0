package dev.mmca.backend;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Owns resources acquired one after another (native buffers, device allocations, handles) and releases
 * them in reverse order: every one is closed even when some fail, the first failure is thrown with the
 * others attached as suppressed. Use it for rollback when a constructor fails half-way, and as the owner
 * of a fixed set of resources afterwards.
 */
public final class Closer implements AutoCloseable {
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    /** Takes ownership of {@code resource} (closed by {@link #close()}) and returns it. */
    public <T extends AutoCloseable> T register(T resource) {
        resources.push(resource);
        return resource;
    }

    /** Whether nothing is held. */
    public boolean isEmpty() {
        return resources.isEmpty();
    }

    /** Closes everything held, newest first; idempotent. */
    @Override
    public void close() {
        RuntimeException first = null;
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException ? (RuntimeException) e : new RuntimeException(e);
                if (first == null) {
                    first = r;
                } else {
                    first.addSuppressed(r);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
