package dev.mmca.cli;

import dev.mmca.MmcaConfig;
import dev.mmca.backend.AttentionProblem;

/** The named workloads that {@code demo} and {@code bench} run. */
final class Workloads {
    private Workloads() {
    }

    /** W1: the upstream README example (dim 512, heads 8, kv_heads 2, batch 32, 10 + 10 tokens). */
    static final Model W1 = new Model("W1", MmcaConfig.builder().dim(512).heads(8).kvHeads(2).build(), 32, 10, 10);
    /** W2: batch 4, 576 visual and 512 text tokens, dim 1024, heads 16, kv_heads 4, dimHead 64, CROSS, causal. */
    static final Model W2 = new Model("W2", MmcaConfig.builder().dim(1024).heads(16).kvHeads(4).dimHead(64)
            .causal(true).build(), 4, 576, 512);
    /** A1: attention only, batch 1, heads 16, kv 4, N = M = 2048, dimHead 64, causal. */
    static final Attention A1 = new Attention("A1", AttentionProblem.builder().batch(1).heads(16).kvHeads(4)
            .queries(2048).keys(2048).dimHead(64).causal(true).build());
    /** A2: attention only, batch 4, heads 16, kv 4, N = 512 text queries, M = 576 visual keys, dimHead 64. */
    static final Attention A2 = new Attention("A2", AttentionProblem.builder().batch(4).heads(16).kvHeads(4)
            .queries(512).keys(576).dimHead(64).build());

    /** A SimpleMMCA forward workload. */
    static final class Model {
        final String name;
        final MmcaConfig config;
        final int batch;
        final int visualTokens;
        final int textTokens;

        Model(String name, MmcaConfig config, int batch, int visualTokens, int textTokens) {
            this.name = name;
            this.config = config;
            this.batch = batch;
            this.visualTokens = visualTokens;
            this.textTokens = textTokens;
        }
    }

    /** An attention-only workload. */
    static final class Attention {
        final String name;
        final AttentionProblem problem;

        Attention(String name, AttentionProblem problem) {
            this.name = name;
            this.problem = problem;
        }
    }
}
