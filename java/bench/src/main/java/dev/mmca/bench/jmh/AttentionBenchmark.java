package dev.mmca.bench.jmh;

import dev.mmca.bench.Runner;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One fused attention call (A1, A2, A3) per runner: each available backend of ours, and libtorch.
 * {@code backend} is filled in by {@link dev.mmca.bench.JmhMain}; an unavailable name fails its trial.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class AttentionBenchmark {
    @Param({"A1", "A2", "A3"})
    public String workload;

    @Param({"java"})
    public String backend;

    private Runner runner;

    @Setup(Level.Trial)
    public void open() {
        runner = BenchState.open(backend, workload);
    }

    @Benchmark
    public void run() {
        runner.run();
    }

    @TearDown(Level.Trial)
    public void close() {
        runner.close();
    }
}
