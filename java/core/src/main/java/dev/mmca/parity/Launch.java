package dev.mmca.parity;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * How to start a fresh JVM in which a kernel path is in force: for a path chosen once, at start-up, which this
 * JVM cannot switch to (a JVM option such as {@code --add-modules}, a system property read when a class loads,
 * an environment variable read when a native library loads).
 *
 * @param jvmOptions options before the main class, e.g. {@code --add-modules jdk.incubator.vector}
 * @param systemProperties {@code -Dkey=value} pairs
 * @param environment variables set for the child process (on top of this process's environment)
 */
public record Launch(List<String> jvmOptions, Map<String, String> systemProperties, Map<String, String> environment) {
    public Launch {
        jvmOptions = List.copyOf(jvmOptions);
        systemProperties = Map.copyOf(systemProperties);
        environment = Map.copyOf(environment);
    }

    /** A launch with only system properties. */
    public static Launch ofProperties(Map<String, String> systemProperties) {
        return new Launch(List.of(), systemProperties, Map.of());
    }

    /** This launch plus {@code other}'s settings (other's win where both set one). */
    public Launch and(Launch other) {
        Objects.requireNonNull(other, "other");
        List<String> options = new java.util.ArrayList<>(jvmOptions);
        options.addAll(other.jvmOptions);
        Map<String, String> props = new LinkedHashMap<>(systemProperties);
        props.putAll(other.systemProperties);
        Map<String, String> env = new LinkedHashMap<>(environment);
        env.putAll(other.environment);
        return new Launch(options, props, env);
    }

    /** The settings as a user would type them: {@code MMCA_CPU_ISA=avx2 java -Dmmca.cpu.threads=2 ...}. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        environment.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(e.getKey()).append('=').append(e.getValue()).append(' '));
        sb.append("java");
        jvmOptions.forEach(o -> sb.append(' ').append(o));
        systemProperties.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(" -D").append(e.getKey()).append('=').append(e.getValue()));
        return sb.toString();
    }
}
