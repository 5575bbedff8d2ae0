package dev.mmca.backend;

import java.util.Objects;

/** Whether a backend can run on this host at all, with a human-readable reason either way. */
public final class Availability {
    private final boolean available;
    private final String reason;

    private Availability(boolean available, String reason) {
        this.available = available;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** Available; {@code detail} says what was found (e.g. "AVX2 kernels, 2 threads"). */
    public static Availability available(String detail) {
        return new Availability(true, detail);
    }

    /** Not available; {@code reason} says why (e.g. "libcuda.so.1 not found"). */
    public static Availability unavailable(String reason) {
        return new Availability(false, reason);
    }

    public boolean isAvailable() { return available; }
    public String reason() { return reason; }

    @Override
    public String toString() {
        return (available ? "available: " : "unavailable: ") + reason;
    }
}
