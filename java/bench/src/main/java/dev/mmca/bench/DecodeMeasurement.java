package dev.mmca.bench;

import dev.mmca.workload.Workload;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Timings of one decoding runner on one DECODE workload: the per-step wall times of the last step (the cache
 * holding every earlier token), the whole sequence (measured, or for the forward-per-step peer possibly estimated
 * from forwards at a sample of lengths), the step's bandwidth bound, and the relative error of the decoded rows
 * against the full forward.
 */
public final class DecodeMeasurement {
    /** What kind of runner was timed; the speed-ups compare ours with the two kinds of peer. */
    public enum Role {
        /** One of our backends through VisualContext and TextSession. */
        SESSION,
        /** libtorch with a hand-written key/value cache. */
        LIBTORCH_KV_CACHE,
        /** The full forward re-run at every step, on one of our backends. */
        FORWARD_PER_STEP
    }

    private final Workload workload;
    private final String runner;
    private final String backend;
    private final Role role;
    private final double[] stepTimesMs;
    private final double[] sequenceTimesMs;
    private final double sequenceEstimateMs;
    private final int[] lengthsTimed;
    private final double boundMs;
    private final double relativeError;

    /**
     * @param sequenceTimesMs the timed whole sequences; empty when the sequence is {@code sequenceEstimateMs}
     * @param lengthsTimed the text lengths whose forwards the estimate integrates (empty when measured)
     * @param boundMs the step's bandwidth bound, NaN when no bandwidth was measured
     */
    public DecodeMeasurement(Workload workload, String runner, String backend, Role role, double[] stepTimesMs,
            double[] sequenceTimesMs, double sequenceEstimateMs, int[] lengthsTimed, double boundMs,
            double relativeError) {
        if (workload.kind() != Workload.Kind.DECODE) {
            throw new IllegalArgumentException("workload: expected a DECODE workload, got " + workload);
        }
        if (stepTimesMs.length == 0) {
            throw new IllegalArgumentException("stepTimesMs: expected at least one timing, got none");
        }
        if ((sequenceTimesMs.length == 0) == Double.isNaN(sequenceEstimateMs)) {
            throw new IllegalArgumentException("sequenceTimesMs, sequenceEstimateMs: expected either timed sequences"
                    + " or an estimate, got " + sequenceTimesMs.length + " timings and estimate " + sequenceEstimateMs);
        }
        if (Double.isNaN(sequenceEstimateMs) != (lengthsTimed.length == 0)) {
            throw new IllegalArgumentException("lengthsTimed: expected the lengths of the estimate exactly when there"
                    + " is one, got " + lengthsTimed.length + " lengths");
        }
        this.workload = workload;
        this.runner = runner;
        this.backend = backend;
        this.role = role;
        this.stepTimesMs = stepTimesMs.clone();
        this.sequenceTimesMs = sequenceTimesMs.clone();
        this.sequenceEstimateMs = sequenceEstimateMs;
        this.lengthsTimed = lengthsTimed.clone();
        this.boundMs = boundMs;
        this.relativeError = relativeError;
    }

    public Workload workload() { return workload; }
    public String runner() { return runner; }
    public String backend() { return backend; }
    public Role role() { return role; }
    public double boundMs() { return boundMs; }
    public double relativeError() { return relativeError; }
    public int stepReps() { return stepTimesMs.length; }
    public int sequenceReps() { return sequenceTimesMs.length; }

    /** Median time of the last step. */
    public double stepMs() {
        return median(stepTimesMs);
    }

    public double stepMinMs() {
        return Arrays.stream(stepTimesMs).min().orElseThrow();
    }

    /** The step's median over its bandwidth bound (1: at the bound), NaN without a bound. */
    public double stepOverBound() {
        return stepMs() / boundMs;
    }

    /** Median of the timed sequences, or the estimate. */
    public double sequenceMs() {
        return sequenceTimesMs.length > 0 ? median(sequenceTimesMs) : sequenceEstimateMs;
    }

    public boolean sequenceEstimated() {
        return sequenceTimesMs.length == 0;
    }

    /** The text lengths whose forwards the sequence estimate integrates (empty when measured). */
    public int[] lengthsTimed() {
        return lengthsTimed.clone();
    }

    /** Whether {@code other} times the same workload (name and batch). */
    public boolean sameWorkload(DecodeMeasurement other) {
        return workload.name().equals(other.workload.name()) && workload.batch() == other.workload.batch();
    }

    /**
     * How many times faster this runner's step is than {@code peerRunner}'s among {@code all} (the peer's median
     * over ours), NaN when this is not one of ours or the peer was not timed.
     */
    public double stepSpeedupOver(List<DecodeMeasurement> all, String peerRunner) {
        if (role != Role.SESSION) {
            return Double.NaN;
        }
        DecodeMeasurement peer = find(all, peerRunner);
        return peer == null ? Double.NaN : peer.stepMs() / stepMs();
    }

    /**
     * How many times faster this runner's whole sequence is than re-running the forward per step on the same
     * backend, NaN when this is not one of ours or that peer was not timed.
     */
    public double sequenceSpeedupOverForwardPerStep(List<DecodeMeasurement> all) {
        if (role != Role.SESSION) {
            return Double.NaN;
        }
        for (DecodeMeasurement m : all) {
            if (m.role == Role.FORWARD_PER_STEP && m.backend.equals(backend) && sameWorkload(m)) {
                return m.sequenceMs() / sequenceMs();
            }
        }
        return Double.NaN;
    }

    private DecodeMeasurement find(List<DecodeMeasurement> all, String runnerName) {
        for (DecodeMeasurement m : all) {
            if (m.runner.equals(runnerName) && sameWorkload(m)) {
                return m;
            }
        }
        return null;
    }

    /**
     * One JSON object on one line; the speed-ups of ours over the peers among {@code all} where there are some, and
     * the bound where a bandwidth was measured.
     */
    public String toJson(List<DecodeMeasurement> all) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "{\"workload\":\"%s\",\"batch\":%d,\"runner\":\"%s\",\"backend\":\"%s\","
                + "\"median_ms\":%.4f,\"min_ms\":%.4f,\"reps\":%d,\"steps\":%d,\"bytes_per_step\":%d", workload.name(),
                workload.batch(), runner, backend, stepMs(), stepMinMs(), stepReps(), workload.textTokens(),
                workload.stepBytes()));
        if (Double.isFinite(boundMs)) {
            sb.append(String.format(Locale.ROOT, ",\"bound_ms\":%.4f,\"step_over_bound\":%.3f", boundMs,
                    stepOverBound()));
        }
        sb.append(String.format(Locale.ROOT, ",\"sequence_ms\":%.3f,\"sequence_estimated\":%b", sequenceMs(),
                sequenceEstimated()));
        if (sequenceEstimated()) {
            sb.append(",\"sequence_lengths_timed\":").append(lengthsTimed.length);
        } else {
            sb.append(",\"sequence_reps\":").append(sequenceReps());
        }
        if (!Double.isNaN(relativeError)) {
            sb.append(String.format(Locale.ROOT, ",\"rel_err_vs_forward\":%.3e", relativeError));
        }
        appendRatio(sb, "step_speedup_vs_libtorch_kv_cat",
                stepSpeedupOver(all, TorchKvCacheRunner.Cache.CONCATENATED.runnerName()));
        appendRatio(sb, "step_speedup_vs_libtorch_kv_preallocated",
                stepSpeedupOver(all, TorchKvCacheRunner.Cache.PREALLOCATED.runnerName()));
        appendRatio(sb, "sequence_speedup_vs_forward_per_step", sequenceSpeedupOverForwardPerStep(all));
        return sb.append('}').toString();
    }

    private static void appendRatio(StringBuilder sb, String key, double r) {
        if (Double.isFinite(r)) {
            sb.append(String.format(Locale.ROOT, ",\"%s\":%.3f", key, r));
        }
    }

    private static double median(double[] times) {
        double[] s = times.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
