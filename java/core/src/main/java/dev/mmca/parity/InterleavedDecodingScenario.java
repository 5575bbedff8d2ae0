package dev.mmca.parity;

import dev.mmca.FloatTensor;
import dev.mmca.ImageAttention;
import dev.mmca.InterleavedMmca;
import dev.mmca.InterleavedSession;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.backend.Backend;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Incremental decoding of interleaved sequences ({@link InterleavedSession}) against the same path's forward: the
 * tokens are appended in the steps of {@link #stepEnds} to a session opened for a third of the sequence and
 * growing as it fills, and the decoded rows (output {@value InterleavedForwardScenario#OUTPUT}) must equal the
 * forward's within the precision's {@link Precision#reorderingTolerance()}: the same arithmetic, in another
 * order. Padding rows of a step are zero, as they are in the forward. Named {@value DecodingScenario#NAME}.
 */
public final class InterleavedDecodingScenario extends InterleavedScenario {
    /** @throws IllegalArgumentException when {@code config}'s composition is not INTERLEAVED */
    public InterleavedDecodingScenario(MmcaConfig config, MgqaWeights weights, FloatTensor tokens, Modality modality) {
        super(config, weights, tokens, modality);
    }

    /**
     * Where the decoding steps of {@code modality} end: after 1, 3, 1, 7, 2, 5, ... tokens, each step under rule
     * {@link ImageAttention#BLOCK} lengthened until no batch element has an image on both sides of its end (a
     * session takes each image whole under that rule). The last end is {@code modality.length()}.
     */
    public static int[] stepEnds(Modality modality, ImageAttention rule) {
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(rule, "rule");
        int n = modality.length();
        List<Integer> ends = new ArrayList<>();
        int at = 0;
        for (int s = 0; at < n; s++) {
            int end = Math.min(n, at + DecodingScenario.STEPS[s % DecodingScenario.STEPS.length]);
            while (rule == ImageAttention.BLOCK && end < n && continuesAnImage(modality, end)) {
                end++;
            }
            ends.add(end);
            at = end;
        }
        return ends.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Whether a step boundary before token {@code at} splits an image in some batch element. */
    private static boolean continuesAnImage(Modality m, int at) {
        for (int b = 0; b < m.batch(); b++) {
            int before = at - 1;
            while (before >= 0 && m.get(b, before) == Modality.PADDING) {
                before--;
            }
            int after = at;
            while (after < m.length() && m.get(b, after) == Modality.PADDING) {
                after++;
            }
            if (before >= 0 && after < m.length() && m.get(b, before) == Modality.IMAGE
                    && m.get(b, after) == Modality.IMAGE) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String name() {
        return DecodingScenario.NAME;
    }

    @Override
    public Run run(Backend backend) {
        int batch = modality.batch();
        int n = modality.length();
        FloatTensor decoded = FloatTensor.zeros(batch, n, config.dim());
        long nanos;
        try (InterleavedMmca model = InterleavedMmca.create(config, weights, backend)) {
            long t0 = System.nanoTime();
            try (InterleavedSession session = model.newSession(batch, Math.max(1, n / 3), true)) {
                int at = 0;
                for (int end : stepEnds(modality, config.imageAttention())) {
                    decoded.setTokens(at, session.append(tokens.tokens(at, end - at), modality.tokens(at, end - at)));
                    at = end;
                }
            }
            nanos = System.nanoTime() - t0;
        }
        return new Run(Map.of(OUTPUT, decoded), nanos);
    }

    @Override
    public Expectation expectation(String output, Precision precision, Map<String, FloatTensor> pathOutputs) {
        requireOutput(output);
        return DecodingScenario.againstForward(output, pathOutputs, precision.reorderingTolerance());
    }
}
