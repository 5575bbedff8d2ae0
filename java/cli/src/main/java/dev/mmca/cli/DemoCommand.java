package dev.mmca.cli;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the upstream README example on seeded random weights and tokens. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the upstream README example (dim 512, heads 8, kv_heads 2, batch 32, 10 visual and"
                + " 10 text tokens) on seeded random weights: prints backend, shapes, a checksum and the time.")
final class DemoCommand implements Callable<Integer> {
    /** The upstream README example: dim 512, heads 8, kv_heads 2 (upstream's MODULO head mapping). */
    static final MmcaConfig CONFIG = MmcaConfig.builder().dim(512).heads(8).kvHeads(2).build();
    static final int BATCH = 32;
    static final int VISUAL_TOKENS = 10;
    static final int TEXT_TOKENS = 10;

    @Option(names = "--backend", description = "auto, java, cpu or cuda (default: ${DEFAULT-VALUE}, or the"
            + " mmca.backend property / MMCA_BACKEND variable)")
    String backend;

    @Option(names = "--seed", defaultValue = "0", description = "Seed for weights and tokens (default: ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() {
        Backend b = Backends.select(backend, CONFIG);
        MmcaWeights weights = MmcaWeights.random(CONFIG, seed);
        FloatTensor v = Inputs.normal(seed + 1, false, BATCH, VISUAL_TOKENS, CONFIG.dim());
        FloatTensor t = Inputs.normal(seed + 2, false, BATCH, TEXT_TOKENS, CONFIG.dim());
        try (SimpleMmca model = SimpleMmca.create(CONFIG, weights, b)) {
            long t0 = System.nanoTime();
            MmcaOutput out = model.forward(v, t);
            long first = System.nanoTime() - t0;
            t0 = System.nanoTime();
            model.forward(v, t);
            long second = System.nanoTime() - t0;
            System.out.println("backend:  " + b.name() + " (" + b.availability().reason() + ")");
            System.out.println("config:   " + CONFIG);
            System.out.println("input:    visual " + Arrays.toString(v.shape()) + ", text " + Arrays.toString(t.shape()));
            System.out.println("output:   visual " + Arrays.toString(out.visual().shape()) + ", text "
                    + Arrays.toString(out.text().shape()));
            System.out.println("checksum: visual " + Inputs.checksum(out.visual()) + "; text "
                    + Inputs.checksum(out.text()));
            System.out.printf(java.util.Locale.ROOT, "time:     %.2f ms first call, %.2f ms second call%n",
                    first / 1e6, second / 1e6);
        }
        return 0;
    }
}
