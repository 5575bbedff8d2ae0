package dev.mmca.backend;

import java.util.Objects;

/** Whether a backend can run something, and if not, why (shown to users as it is). */
public final class Support {
    private static final Support YES = new Support(true, "supported");

    private final boolean supported;
    private final String reason;

    private Support(boolean supported, String reason) {
        this.supported = supported;
        this.reason = reason;
    }

    public static Support yes() {
        return YES;
    }

    public static Support no(String reason) {
        return new Support(false, Objects.requireNonNull(reason, "reason"));
    }

    public boolean isSupported() { return supported; }
    public String reason() { return reason; }

    @Override
    public String toString() {
        return supported ? "supported" : "unsupported: " + reason;
    }
}
