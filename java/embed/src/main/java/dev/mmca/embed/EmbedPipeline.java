package dev.mmca.embed;

import dev.mmca.MmcaException;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.io.FileChecks;
import dev.mmca.io.HeapCheck;
import dev.mmca.io.HeapLimitException;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.MalformedFileException;
import dev.mmca.io.ModelFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
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
 * <p>Re-running over the same directories skips shards whose complete output exists and records
 * what made it: the input's content hash, the weights' values hash and the resolved config (see
 * {@link ShardFormat}); a shard whose input, weights or config changed since is redone. The check
 * reads each output's header and streams each input through the hash; a shard that is embedded is
 * hashed while it is read. The backend, batch size, window and thread count are not compared: they
 * change outputs only within float tolerance. A shard's batches depend only on that shard, so a re-run
 * gives the same result. A shard that cannot be read or embedded fails alone: without
 * {@link EmbedOptions#keepGoing()} the run stops after it, with it the run goes on; either way the
 * report lists every failed shard.
 */
public final class EmbedPipeline {
    private final SimpleMmca model;
    private final Map<String, String> provenance;
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
     * @param model the model to run (not closed here); its config is recorded in every output shard
     * @param weightsIdentity identifies the weights' values (e.g. {@link #weightsIdentity}); recorded in every
     *     output shard, so that a re-run with other weights redoes them
     */
    public EmbedPipeline(SimpleMmca model, String weightsIdentity, EmbedOptions options, EmbedProgress progress) {
        this.model = Objects.requireNonNull(model, "model");
        this.options = Objects.requireNonNull(options, "options");
        this.progress = progress == null ? EmbedProgress.NONE : progress;
        Map<String, String> m = new LinkedHashMap<>();
        m.put(ShardFormat.META_FORMAT, ShardFormat.FORMAT_VERSION);
        m.put(ShardFormat.META_WEIGHTS_SHA256, Objects.requireNonNull(weightsIdentity, "weightsIdentity"));
        m.put(ShardFormat.META_CONFIG, Provenance.config(model.config()));
        this.provenance = Map.copyOf(m);
    }

    /**
     * Checks the paths of {@code options}, loads the weights, runs, and closes the model. The weights'
     * warnings go to {@link EmbedProgress#warning}.
     *
     * @throws IOException naming the option and the path when the input is not a directory of shards, the
     *     output is not a directory that can be created, the two are the same, or an output would replace the
     *     weights; before the weights are read
     */
    public static EmbedReport run(EmbedOptions options, EmbedProgress progress) throws IOException {
        Objects.requireNonNull(options, "options");
        EmbedProgress p = progress == null ? EmbedProgress.NONE : progress;
        checkPaths(options, listShards(options.input()));
        LoadedModel loaded = ModelFiles.read(options.weights(), options.overrides());
        for (String w : loaded.warnings()) {
            p.warning(w);
        }
        String weights = Provenance.weights(loaded.weights());
        try (SimpleMmca model = ModelLoading.create(loaded, options.backend())) {
            return new EmbedPipeline(model, weights, options, p).run();
        }
    }

    /** An identity of the weights' values: SHA-256 of the twelve tensors' names, shapes and float32 values. */
    public static String weightsIdentity(MmcaWeights weights) {
        return Provenance.weights(Objects.requireNonNull(weights, "weights"));
    }

    /** CRC-32 of a file's bytes, as 8 hex digits. */
    public static String crc32(Path file) throws IOException {
        CRC32 crc = new CRC32();
        try (InputStream in = java.nio.channels.Channels.newInputStream(FileChecks.openForReading(file))) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        return String.format("%08x", crc.getValue());
    }

    /**
     * Input shards of a directory, by name: its {@code *.safetensors} files and its {@code .npy} groups,
     * each named by its {@code NAME.visual.npy} file (hidden files and directories excluded). A special file
     * with a shard's name (a FIFO, a device) is listed, so that it fails as a shard with the reason
     * instead of being passed over in silence.
     */
    public static List<Path> listShards(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("input: expected a directory of " + ShardFormat.EXTENSION + " shards (or "
                    + NpyShards.VISUAL_SUFFIX + " groups), got " + FileChecks.kindOf(dir, true) + " at " + dir);
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                return (n.endsWith(ShardFormat.EXTENSION) || NpyShards.isNpyShard(p)) && !n.startsWith(".")
                        && !Files.isDirectory(p);
            }).sorted().toList();
        }
    }

    /** The checks made before any work: see {@link #run(EmbedOptions, EmbedProgress)}. */
    private static void checkPaths(EmbedOptions options, List<Path> shards) throws IOException {
        Path in = options.input();
        Path out = options.output();
        if (shards.isEmpty()) {
            throw new IOException("input: expected at least one " + ShardFormat.EXTENSION + " shard (or "
                    + NpyShards.VISUAL_SUFFIX + " group) in " + in + ", found none");
        }
        for (Path p = out.toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p)) {
                if (!Files.isDirectory(p)) {
                    throw new IOException("output: expected a directory (created when missing), got "
                            + FileChecks.kindOf(p, true) + " at " + (p.equals(out.toAbsolutePath()) ? out
                            : p + " (on the way to " + out + ")"));
                }
                break;
            }
        }
        if (Files.isDirectory(out) && Files.isSameFile(in, out)) {
            throw new IOException("output: expected a directory other than the input (" + in
                    + "), since outputs have the inputs' names");
        }
        try {
            FileChecks.requireRegularFile(options.weights());
        } catch (IOException e) {
            throw new IOException("weights: " + e.getMessage(), e);
        }
        if (Files.isDirectory(out)) {
            for (Path shard : shards) {
                Path o = out.resolve(outputName(shard));
                if (Files.exists(o) && Files.isSameFile(o, options.weights())) {
                    throw new IOException("output: the output of shard " + shard.getFileName() + " would be " + o
                            + ", which is the weights file (" + options.weights() + "); expected an output directory"
                            + " that does not hold the weights under a shard's name");
                }
            }
        }
    }

    private static void createOutput(Path out) throws IOException {
        try {
            Files.createDirectories(out);
        } catch (FileAlreadyExistsException e) {
            throw new IOException("output: expected a directory (created when missing), got "
                    + FileChecks.kindOf(Path.of(e.getFile()), true) + " at " + e.getFile()
                    + (e.getFile().equals(out.toString()) ? "" : " (on the way to " + out + ")"), e);
        } catch (FileSystemException e) {
            throw new IOException("output: cannot create the directory " + out + ": "
                    + (e.getReason() != null ? e.getReason() : e.getClass().getSimpleName()) + " at " + e.getFile(), e);
        }
    }

    /** Runs once; the model stays open. */
    public EmbedReport run() throws IOException {
        List<Path> shards = listShards(options.input());
        checkPaths(options, shards);
        createOutput(options.output());
        checkPaths(options, shards); // again: the same-file checks need the output directory to exist
        List<Path> todo = new ArrayList<>();
        long todoRecords = 0;
        int skipped = 0;
        removeLeftoverTemporaries(shards);
        for (Path shard : shards) {
            int n = ShardHeader.records(shard);
            if (OutputShards.isComplete(outputOf(shard), shard, n, provenance)) {
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

    private static String outputName(Path inputShard) {
        return NpyShards.isNpyShard(inputShard) ? NpyShards.baseName(inputShard) + ShardFormat.EXTENSION
                : inputShard.getFileName().toString();
    }

    private Path outputOf(Path inputShard) {
        return options.output().resolve(outputName(inputShard));
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

    // ---- stages ----

    /** A shard being embedded: its records, its input hash and the output arrays its batches fill in. */
    private static final class ShardJob {
        final InputShard shard;
        final String inputSha256;
        final float[] visualOut;
        final float[] textOut;
        int remaining;
        volatile boolean failed;

        ShardJob(InputShard shard, String inputSha256) {
            this.shard = shard;
            this.inputSha256 = inputSha256;
            int[] v = {shard.size(), shard.visualTokens, shard.dim};
            int[] t = {shard.size(), shard.textTokens, shard.dim};
            this.visualOut = HeapCheck.floats(shard.path, "output '" + ShardFormat.VISUAL_OUT + "' "
                    + java.util.Arrays.toString(v), shard.size() * shard.visualTokens * shard.dim);
            this.textOut = HeapCheck.floats(shard.path, "output '" + ShardFormat.TEXT_OUT + "' "
                    + java.util.Arrays.toString(t), shard.size() * shard.textTokens * shard.dim);
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
                ShardJob job;
                try {
                    MessageDigest digest = Provenance.sha256();
                    InputShard shard = ShardReader.read(path, dim, digest);
                    job = new ShardJob(shard, Provenance.hex(digest));
                } catch (IOException | RuntimeException e) {
                    fail(path.getFileName().toString(), null, describe(e));
                    continue;
                }
                InputShard shard = job.shard;
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

    private Map<String, String> metadata(ShardJob job) {
        Map<String, String> m = new LinkedHashMap<>(provenance);
        m.put(ShardFormat.META_INPUT_SHA256, job.inputSha256);
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
        if (e instanceof MalformedFileException || e instanceof IllegalArgumentException
                || e instanceof HeapLimitException || e instanceof FileSystemException
                || e instanceof MmcaException || e.getClass() == IOException.class) {
            return e.getMessage();
        }
        if (e instanceof UncheckedIOException u) {
            return describe(u.getCause());
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
}
