package dev.mmca.bench.jmh;

import dev.mmca.workload.Workload;
import dev.mmca.backend.Backends;
import dev.mmca.bench.BackendRunner;
import dev.mmca.bench.Runner;
import dev.mmca.bench.TorchPeer;
import dev.mmca.bench.TorchRunner;
import dev.mmca.bench.WorkloadData;

/** Builds the runner a JMH trial times: one of our backends by name, or {@code libtorch}. */
final class BenchState {
    /** Threads for libtorch and OpenBLAS: system property {@code bench.threads}, else every core. */
    static final int THREADS = Integer.getInteger("bench.threads", Runtime.getRuntime().availableProcessors());

    private BenchState() {
    }

    static Runner open(String backend, String workload) {
        Workload w = Workload.select(Workload.standard(), java.util.List.of(workload)).get(0);
        WorkloadData data = WorkloadData.generate(w, 42);
        if (backend.equals("libtorch")) {
            TorchPeer.setThreads(THREADS);
            return new TorchRunner(data);
        }
        return new BackendRunner(Backends.byName(backend), data);
    }
}
