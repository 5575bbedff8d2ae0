package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a small synthetic, seeded input set: {@code weights.safetensors} (random weights with
 * their hyper-parameters in the metadata) and {@code input/shard-NNNNN.safetensors} holding
 * records of random lengths, so the whole embed flow can be tried without downloads.
 */
public final class SampleGenerator {
    public static final String WEIGHTS_FILE = "weights.safetensors";
    public static final String INPUT_DIR = "input";

    private final int records;
    private final int shards;
    private final MmcaConfig config;
    private final int maxVisual;
    private final int maxText;
    private final long seed;
    private final boolean fixedLengths;

    /**
     * @param records total records, spread evenly over the shards
     * @param maxVisual longest visual record (lengths are drawn from 1..maxVisual)
     * @param maxText longest text record (lengths are drawn from 1..maxText)
     */
    public SampleGenerator(int records, int shards, MmcaConfig config, int maxVisual, int maxText, long seed) {
        this(records, shards, config, maxVisual, maxText, seed, false);
    }

    /** As above; with {@code fixedLengths} every record has exactly maxVisual and maxText tokens. */
    public SampleGenerator(int records, int shards, MmcaConfig config, int maxVisual, int maxText, long seed,
            boolean fixedLengths) {
        if (records < 1) {
            throw new IllegalArgumentException("records: expected at least 1, got " + records);
        }
        if (shards < 1 || shards > records) {
            throw new IllegalArgumentException("shards: expected 1.." + records + " (one record per shard at least),"
                    + " got " + shards);
        }
        if (maxVisual < 1 || maxText < 1) {
            throw new IllegalArgumentException("maxVisual, maxText: expected at least 1 token each, got " + maxVisual
                    + ", " + maxText);
        }
        java.util.Objects.requireNonNull(config, "config");
        // The largest shard holds ceil(records / shards) records padded to the longest lengths.
        long perShard = ((long) records + shards - 1) / shards;
        int textTokens = config.composition() == dev.mmca.Composition.SEED ? maxVisual : maxText;
        long visualElements = perShard * maxVisual * config.dim();
        long textElements = perShard * textTokens * config.dim();
        if (Math.max(visualElements, textElements) > Safetensors.MAX_ELEMENTS) {
            throw new IllegalArgumentException("records: expected at most 2^31-9 values per shard tensor (records per"
                    + " shard x tokens x dim), got " + perShard + " x " + Math.max(maxVisual, textTokens) + " x "
                    + config.dim() + " = " + Math.max(visualElements, textElements) + "; use more shards or fewer"
                    + " records");
        }
        // A shard's tensors and masks exist at once while it is written, next to the weights.
        long weightElements = 3L * 2 * (config.innerDim() + config.kvInnerDim()) * config.dim();
        dev.mmca.io.HeapCheck.require(null, "records: a sample shard of " + perShard + " records (with the weights)",
                4 * (visualElements + textElements + perShard * (maxVisual + textTokens) + weightElements));
        this.records = records;
        this.shards = shards;
        this.config = config;
        this.maxVisual = maxVisual;
        this.maxText = maxText;
        this.seed = seed;
        this.fixedLengths = fixedLengths;
    }

    /** Writes the set under {@code dir} (created if needed) and returns the shard files. */
    public List<Path> write(Path dir) throws IOException {
        Files.createDirectories(dir.resolve(INPUT_DIR));
        ModelFiles.save(dir.resolve(WEIGHTS_FILE), config, MmcaWeights.random(config, seed));
        SplittableRandom random = new SplittableRandom(seed + 1);
        List<Path> files = new ArrayList<>();
        for (int s = 0; s < shards; s++) {
            int from = (int) ((long) records * s / shards);
            int to = (int) ((long) records * (s + 1) / shards);
            Path file = dir.resolve(INPUT_DIR).resolve(String.format("shard-%05d%s", s, ShardFormat.EXTENSION));
            Safetensors.write(file, shard(random, to - from), Map.of("source", "mmca make-sample, seed " + seed));
            files.add(file);
        }
        return files;
    }

    /** Tensors of one shard of {@code n} records, padded to the longest record in it. */
    private Map<String, FloatTensor> shard(SplittableRandom random, int n) {
        int dim = config.dim();
        int[] vl = new int[n];
        int[] tl = new int[n];
        int nv = 1;
        int nt = 1;
        for (int r = 0; r < n; r++) {
            vl[r] = fixedLengths ? maxVisual : 1 + random.nextInt(maxVisual);
            tl[r] = config.composition() == dev.mmca.Composition.SEED ? vl[r]
                    : fixedLengths ? maxText : 1 + random.nextInt(maxText);
            nv = Math.max(nv, vl[r]);
            nt = Math.max(nt, tl[r]);
        }
        float[] v = new float[n * nv * dim];
        float[] t = new float[n * nt * dim];
        for (int r = 0; r < n; r++) {
            fill(random, v, r * nv * dim, vl[r] * dim);
            fill(random, t, r * nt * dim, tl[r] * dim);
        }
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put(ShardFormat.VISUAL, FloatTensor.of(v, n, nv, dim));
        m.put(ShardFormat.TEXT, FloatTensor.of(t, n, nt, dim));
        m.put(ShardFormat.VISUAL_MASK, OutputShards.maskOf(vl, nv));
        m.put(ShardFormat.TEXT_MASK, OutputShards.maskOf(tl, nt));
        return m;
    }

    private static void fill(SplittableRandom random, float[] a, int from, int count) {
        for (int i = from; i < from + count; i++) {
            a[i] = (float) random.nextGaussian();
        }
    }
}
