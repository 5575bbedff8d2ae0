package dev.mmca.embed;

import java.io.PrintStream;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A terminal progress bar (records done, records/s, ETA, tokens/s) on a stream, usually standard
 * error; failures are printed as they happen. Use {@link #wanted} to decide whether to show it.
 */
public final class ConsoleProgress implements EmbedProgress {
    private final PrintStream out;
    private ProgressBar bar;
    private long tokens;
    private long startNanos;

    public ConsoleProgress(PrintStream out) {
        this.out = out;
    }

    /**
     * Whether to show a bar: never with {@code quiet}, always with {@code forced}, otherwise only
     * when a terminal is attached (no bar in logs and pipes).
     */
    public static boolean wanted(boolean forced, boolean quiet) {
        if (quiet) {
            return false;
        }
        return forced || System.console() != null;
    }

    @Override
    public synchronized void start(int shards, long records) {
        startNanos = System.nanoTime();
        bar = new ProgressBarBuilder()
                .setTaskName("embed " + shards + " shard" + (shards == 1 ? "" : "s"))
                .setInitialMax(records)
                .setStyle(ProgressBarStyle.ASCII)
                .setUnit(" rec", 1)
                .showSpeed()
                .setSpeedUnit(ChronoUnit.SECONDS)
                .setUpdateIntervalMillis(250)
                .setConsumer(new ConsoleProgressBarConsumer(out, 120))
                .build();
    }

    @Override
    public synchronized void advance(int records, long tokens) {
        if (bar == null) {
            return;
        }
        this.tokens += tokens;
        double s = (System.nanoTime() - startNanos) / 1e9;
        bar.stepBy(records);
        if (bar.getCurrent() > bar.getMax()) {
            bar.maxHint(bar.getCurrent());
        }
        bar.setExtraMessage(String.format(Locale.ROOT, "| %.0f tok/s", s > 0 ? this.tokens / s : 0.0));
    }

    @Override
    public synchronized void failed(ShardFailure failure) {
        out.println();
        out.println("failed: " + failure);
    }

    @Override
    public synchronized void finish(EmbedReport report) {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
