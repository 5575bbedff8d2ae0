package dev.mmca.bench;

import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import java.util.ArrayList;
import java.util.List;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs the JMH benchmarks of {@code dev.mmca.bench.jmh} with the usual JMH command line, except that
 * the {@code backend} parameter defaults to every available backend of ours plus {@code libtorch}.
 *
 * <pre>
 * mvn -B -q -pl java/bench -am -Pjmh package -DskipTests -Djmh.args="AttentionBenchmark -p workload=A2"
 * </pre>
 */
public final class JmhMain {
    private JmhMain() {
    }

    public static void main(String[] args) throws RunnerException, CommandLineOptionException {
        CommandLineOptions cmd = new CommandLineOptions(args);
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cmd);
        if (!cmd.getParameter("backend").hasValue()) {
            options.param("backend", runnerNames().toArray(new String[0]));
        }
        new org.openjdk.jmh.runner.Runner(options.build()).run();
    }

    /** Available backends of ours, then {@code libtorch}. */
    static List<String> runnerNames() {
        List<String> names = new ArrayList<>();
        for (Backend b : Backends.all()) {
            if (b.availability().isAvailable()) {
                names.add(b.name());
            }
        }
        names.add("libtorch");
        return names;
    }
}
