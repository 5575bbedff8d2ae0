package dev.mmca.embed;

import dev.mmca.SimpleMmca;
import dev.mmca.io.MalformedFileException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * Embeds every input shard of a directory into an output directory with one {@link SimpleMmca}.
 *
 * <p>Three stages run at once, joined by bounded queues so a fast stage waits for a slow one
 * instead of filling memory: a reader (reads and validates a shard, plans its batches, pads
 * them), the forward stage (one or more threads calling the model) and a writer (puts each
 * record's outputs in place and writes a shard once all its records are done, atomically).
 *
 * <p>Re-running over the same directories skips shards whose complete output exists (see
 * {@link OutputShards#isComplete}); a shard's batches depend only on that shard, so a re-run gives
 * the same result. A shard that cannot be read or embedded fails alone: without
 * {@link EmbedOptions#keepGoing()} the run stops after it, with it the run goes on; either way the
 * report lists every failed shard.
 */
public final class EmbedPipeline {
    private final SimpleMmca model;
    private final String weightsCrc32;
    private final EmbedOptions options;
    private final EmbedProgress progress;

    private final Object lock = new Object();
    private final List<ShardFailure> failures = new ArrayList<>();
    private volatile boolean aborted;
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong tokens = new AtomicLong();
    private final AtomicLong paddedTokens = new AtomicLong();
    private final AtomicLong forwardNanos = new AtomicLong();
    private final AtomicInteger written = new AtomicInteger();

    /**
     * @param model the model to run (not closed here)
     * @param weightsCrc32 checksum of the weights, stored in outputs so that a re-run with other weights redoes them
     */
    public EmbedPipeline(SimpleMmca model, String weightsCrc32, EmbedOptions options, EmbedProgress progress) {
        this.model = Objects.requireNonNull(model, "model");
        this.weightsCrc32 = Objects.requireNonNull(weightsCrc32, "weightsCrc32");
        this.options = Objects.requireNonNull(options, "options");
        this.progress = progress == null ? EmbedProgress.NONE : progress;
    }

    /** Loads the weights of {@code options}, runs, and closes the model. */
    public static EmbedReport run(EmbedOptions options, EmbedProgress progress) throws IOException {
        Objects.requireNonNull(options, "options");
        String crc = crc32(options.weights());
        try (SimpleMmca model = ModelLoading.load(options.weights(), options.backend(), options.overrides())) {
            return new EmbedPipeline(model, crc, options, progress).run();
        }
    }

    /** CRC-32 of a file's bytes, as 8 hex digits. */
    public static String crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return String.format("%08x", crc.getValue());
    }

    /**
     * Input shards of a directory, by name: its {@code *.safetensors} files and its {@code .npy} groups,
     * each named by its {@code NAME.visual.npy} file (hidden files excluded).
     */
    public static List<Path> listShards(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("input: expected a directory of " + ShardFormat.EXTENSION + " shards, got "
                    + (Files.exists(dir) ? "a file " : "nothing at ") + dir);
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return (n.endsWith(ShardFormat.EXTENSION) || NpyShards.isNpyShard(p)) && !n.startsWith(".")
                        && Files.isRegularFile(p);
            }).sorted().toList();
        }
    }

    /** Runs once; the model stays open. */
    public EmbedReport run() throws IOException {
        List<Path> shards = listShards(options.input());
        if (shards.isEmpty()) {
            throw new IOException("input: expected at least one " + ShardFormat.EXTENSION + " shard (or "
                    + NpyShards.VISUAL_SUFFIX + " group) in "
                    + options.input() + ", found none");
        }
        Files.createDirectories(options.output());
        if (Files.isSameFile(options.input(), options.output())) {
            throw new IOException("output: expected a directory other than the input (" + options.input()
                    + "), since outputs have the inputs' names");
        }
        List<Path> todo = new ArrayList<>();
        long todoRecords = 0;
        int skipped = 0;
        removeLeftoverTemporaries(shards);
        for (Path shard : shards) {
            int n = ShardHeader.records(shard);
            if (OutputShards.isComplete(outputOf(shard), shard, n, weightsCrc32)) {
                skipped++;
            } else {
                todo.add(shard);
                todoRecords += Math.max(0, n);
            }
        }
        progress.start(todo.size(), todoRecords);
        long start = System.nanoTime();
        if (!todo.isEmpty()) {
            runStages(todo);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        EmbedReport report;
        synchronized (lock) {
            report = new EmbedReport(shards.size(), written.get(), skipped, failures, records.get(), tokens.get(),
                    paddedTokens.get(), seconds, forwardNanos.get() / 1e9, model.backend().name());
        }
        progress.finish(report);
        return report;
    }

    private Path outputOf(Path inputShard) {
        String name = NpyShards.isNpyShard(inputShard) ? NpyShards.baseName(inputShard) + ShardFormat.EXTENSION
                : inputShard.getFileName().toString();
        return options.output().resolve(name);
    }

    /**
     * Deletes temporary files that an interrupted run left for the outputs of {@code shards} (the
     * atomic writer names them {@code .NAME.<random>.tmp} beside the target, NAME cut to 64
     * characters); finished files are never touched. One run at a time may write an output directory.
     */
    private void removeLeftoverTemporaries(List<Path> shards) throws IOException {
        Set<String> prefixes = new HashSet<>();
        for (Path shard : shards) {
            String name = outputOf(shard).getFileName().toString();
            prefixes.add("." + (name.length() > 64 ? name.substring(0, 64) : name) + ".");
        }
        try (Stream<Path> s = Files.list(options.output())) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (!n.startsWith(".") || !n.endsWith(".tmp")) {
                    continue;
                }
                String stem = n.substring(0, n.length() - ".tmp".length());
                int dot = stem.lastIndexOf('.');
                if (dot > 0 && prefixes.contains(stem.substring(0, dot + 1)) && Files.isRegularFile(p)) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** Bytes of the input files of a shard, recorded in its output to notice a changed input. */
    static long inputBytes(Path inputShard) throws IOException {
        if (!NpyShards.isNpyShard(inputShard)) {
            return Files.size(inputShard);
        }
        long n = 0;
        for (Path p : NpyShards.files(inputShard)) {
            n += Files.size(p);
        }
        return n;
    }

    // ---- stages ----

    /** A shard being embedded: its records and the output arrays its batches fill in. */
    private static final class ShardJob {
        final InputShard shard;
        final float[] visualOut;
        final float[] textOut;
        int remaining;
        volatile boolean failed;

        ShardJob(InputShard shard) {
            this.shard = shard;
            this.visualOut = new float[shard.size() * shard.visualTokens * shard.dim];
            this.textOut = new float[shard.size() * shard.textTokens * shard.dim];
            this.remaining = shard.size();
        }
    }

    /** Reader to forward stage: a padded batch (null for a shard with no records). */
    private record Work(ShardJob job, PaddedBatch batch) {
    }

    /** Forward stage to writer: outputs, or the error that the batch's forward threw. */
    private record Done(ShardJob job, PaddedBatch.Outputs outputs, RuntimeException error) {
    }

    private static final Work END_OF_WORK = new Work(null, null);
    private static final Done END_OF_DONE = new Done(null, null, null);

    private void runStages(List<Path> todo) throws IOException {
        int computeThreads = options.computeThreads();
        BlockingQueue<Work> work = new ArrayBlockingQueue<>(options.queueBatches());
        BlockingQueue<Done> done = new ArrayBlockingQueue<>(options.queueBatches());
        AtomicInteger threadId = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(2 + computeThreads, r -> {
            Thread t = new Thread(r, "mmca-embed-" + threadId.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        ExecutorCompletionService<Void> stages = new ExecutorCompletionService<>(pool);
        List<Future<Void>> futures = new ArrayList<>();
        futures.add(stages.submit(() -> {
            read(todo, work, computeThreads);
            return null;
        }));
        for (int i = 0; i < computeThreads; i++) {
            futures.add(stages.submit(() -> {
                forward(work, done);
                return null;
            }));
        }
        futures.add(stages.submit(() -> {
            write(done, computeThreads);
            return null;
        }));
        try {
            for (int i = 0; i < futures.size(); i++) {
                stages.take().get();
            }
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException("embed pipeline failed: " + cause, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("embed pipeline interrupted", e);
        } finally {
            // Stops the other stages when one failed (they block on queues and see the interrupt).
            for (Future<Void> f : futures) {
                f.cancel(true);
            }
            pool.shutdownNow();
        }
    }

    private void read(List<Path> todo, BlockingQueue<Work> work, int computeThreads) throws InterruptedException {
        try {
            int dim = model.config().dim();
            for (Path path : todo) {
                if (aborted) {
                    break;
                }
                InputShard shard;
                try {
                    shard = ShardReader.read(path, dim);
                } catch (IOException | RuntimeException e) {
                    fail(path.getFileName().toString(), null, describe(e));
                    continue;
                }
                ShardJob job = new ShardJob(shard);
                int n = shard.size();
                int[] vl = new int[n];
                int[] tl = new int[n];
                for (int i = 0; i < n; i++) {
                    vl[i] = shard.records.get(i).visualLength();
                    tl[i] = shard.records.get(i).textLength();
                }
                if (n == 0) {
                    work.put(new Work(job, null));
                    continue;
                }
                for (int[] positions : BatchPlanner.plan(vl, tl, options.window(), options.batchTokens())) {
                    if (aborted || job.failed) {
                        break;
                    }
                    work.put(new Work(job, PaddedBatch.build(shard.records, positions, dim)));
                }
            }
        } finally {
            for (int i = 0; i < computeThreads; i++) {
                work.put(END_OF_WORK);
            }
        }
    }

    private void forward(BlockingQueue<Work> work, BlockingQueue<Done> done) throws InterruptedException {
        try {
            while (true) {
                Work w = work.take();
                if (w == END_OF_WORK) {
                    return;
                }
                if (aborted || w.job().failed) {
                    continue;
                }
                if (w.batch() == null) {
                    done.put(new Done(w.job(), null, null));
                    continue;
                }
                long t0 = System.nanoTime();
                Done d;
                try {
                    d = new Done(w.job(), w.batch().run(model), null);
                } catch (RuntimeException e) {
                    d = new Done(w.job(), null, e);
                }
                forwardNanos.addAndGet(System.nanoTime() - t0);
                done.put(d);
            }
        } finally {
            done.put(END_OF_DONE);
        }
    }

    private void write(BlockingQueue<Done> done, int computeThreads) throws InterruptedException {
        int ended = 0;
        while (ended < computeThreads) {
            Done d = done.take();
            if (d == END_OF_DONE) {
                ended++;
                continue;
            }
            ShardJob job = d.job();
            if (job.failed) {
                continue;
            }
            if (d.error() != null) {
                fail(job.shard.name(), job, "forward failed: " + describe(d.error()));
                continue;
            }
            if (d.outputs() != null) {
                scatter(job, d.outputs());
            }
            if (job.remaining == 0) {
                try {
                    OutputShards.write(outputOf(job.shard.path), job.shard, job.visualOut, job.textOut, metadata(job));
                    written.incrementAndGet();
                } catch (IOException | RuntimeException e) {
                    fail(job.shard.name(), job, "writing the output failed: " + describe(e));
                }
            }
        }
    }

    /** Puts each record's real outputs at its place in the shard's padded layout. */
    private void scatter(ShardJob job, PaddedBatch.Outputs out) {
        PaddedBatch b = out.batch;
        InputShard s = job.shard;
        for (int i = 0; i < b.size(); i++) {
            int r = b.positions[i];
            out.copyVisual(i, job.visualOut, r * s.visualTokens * s.dim);
            out.copyText(i, job.textOut, r * s.textTokens * s.dim);
        }
        job.remaining -= b.size();
        long real = b.realTokens();
        records.addAndGet(b.size());
        tokens.addAndGet(real);
        paddedTokens.addAndGet(b.paddedTokens());
        progress.advance(b.size(), real);
    }

    private Map<String, String> metadata(ShardJob job) throws IOException {
        Map<String, String> m = new LinkedHashMap<>();
        m.put(ShardFormat.META_INPUT_BYTES, Long.toString(inputBytes(job.shard.path)));
        m.put(ShardFormat.META_WEIGHTS_CRC32, weightsCrc32);
        m.put(ShardFormat.META_BACKEND, model.backend().name());
        return m;
    }

    private void fail(String shard, ShardJob job, String message) {
        ShardFailure f = new ShardFailure(shard, message);
        synchronized (lock) {
            if (job != null) {
                if (job.failed) {
                    return;
                }
                job.failed = true;
            }
            failures.add(f);
            if (!options.keepGoing()) {
                aborted = true;
            }
        }
        progress.failed(f);
    }

    private static String describe(Throwable e) {
        if (e instanceof MalformedFileException || e instanceof IllegalArgumentException) {
            return e.getMessage();
        }
        if (e instanceof UncheckedIOException u) {
            return describe(u.getCause());
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
