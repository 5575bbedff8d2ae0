package dev.mmca;

import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Backend;
import dev.mmca.backend.Backends;
import dev.mmca.backend.java.JavaProjection;
import dev.mmca.plan.PackedWeight;
import java.util.Arrays;
import java.util.Objects;

/**
 * One grouped-query attention block (SPEC "One grouped-query attention block"), the building
 * block of {@link SimpleMmca}: {@code out = attention(x Wq^T, c Wk^T, c Wv^T) Wo^T} where the
 * context {@code c} is {@code x} itself unless given. The fused attention runs on the chosen
 * backend ({@link Backend#attention}); the projections run on this JVM's Java kernels
 * ({@link JavaProjection}). Uses {@code config}'s heads, kvHeads, dimHead, qkNorm, headMapping and
 * {@code causal} (right-aligned when the context length differs). Thread-safe; holds only heap memory.
 */
public final class Mgqa {
    private final MmcaConfig config;
    private final Backend backend;
    private final JavaProjection toQ;
    private final JavaProjection toKv;
    private final JavaProjection toOut;

    private Mgqa(MmcaConfig config, MgqaWeights weights, Backend backend) {
        this.config = config;
        this.backend = backend;
        weights.validate("mgqa", config);
        this.toQ = JavaProjection.of(PackedWeight.stack("mgqa.to_q", weights.toQ()));
        this.toKv = JavaProjection.of(PackedWeight.stack("mgqa.to_k|to_v", weights.toK(), weights.toV()));
        this.toOut = JavaProjection.of(PackedWeight.stack("mgqa.to_out", weights.toOut()));
    }

    /** A block whose attention runs on the backend chosen by {@link Backends#select(MmcaConfig)}. */
    public static Mgqa create(MmcaConfig config, MgqaWeights weights) {
        return create(config, weights, Backends.select(config));
    }

    public static Mgqa create(MmcaConfig config, MgqaWeights weights, Backend backend) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        Objects.requireNonNull(backend, "backend");
        return new Mgqa(config, weights, backend);
    }

    public MmcaConfig config() { return config; }
    public Backend backend() { return backend; }

    /** Self-attention over {@code x [B, N, dim]}; {@code mask [B, N]} (nullable) masks queries and keys. */
    public FloatTensor forward(FloatTensor x, Mask mask) {
        return forward(x, null, mask, null);
    }

    /**
     * Attention from {@code x [B, N, dim]} to {@code context [B, M, dim]} (null: self-attention). {@code mask}
     * masks queries (and keys when there is no context); {@code contextMask [B, M]} masks context keys.
     * Rows whose query mask is false are zero, as is a query that sees no key.
     */
    public FloatTensor forward(FloatTensor x, FloatTensor context, Mask mask, Mask contextMask) {
        Objects.requireNonNull(x, "x");
        check("x", x, -1);
        int b = x.dim(0);
        int n = x.dim(1);
        if (context != null) {
            check("context", context, b);
        } else if (contextMask != null) {
            throw new IllegalArgumentException("contextMask: expected null without a context, got a mask");
        }
        FloatTensor kvIn = context != null ? context : x;
        int m = kvIn.dim(1);
        checkMask("mask", mask, b, n);
        checkMask("contextMask", contextMask, b, m);
        int hd = config.innerDim();
        int gd = config.kvInnerDim();
        float[] q = new float[b * n * hd];
        checkFinite("mgqa.to_q", toQ.apply(array(x), b * n, q), hd);
        float[] kv = new float[b * m * 2 * gd];
        checkFinite("mgqa.to_k|to_v", toKv.apply(array(kvIn), b * m, kv), 2 * gd);
        float[] k = new float[b * m * gd];
        float[] v = new float[b * m * gd];
        for (int r = 0; r < b * m; r++) {
            System.arraycopy(kv, r * 2 * gd, k, r * gd, gd);
            System.arraycopy(kv, r * 2 * gd + gd, v, r * gd, gd);
        }
        AttentionProblem p = AttentionProblem.builder().batch(b).heads(config.heads()).kvHeads(config.kvHeads())
                .queries(n).keys(m).dimHead(config.dimHead()).scale(config.scale()).qkNorm(config.qkNorm())
                .causal(config.causal()).headMapping(config.headMapping())
                .keyMask(context != null ? contextMask : mask).queryMask(mask).build();
        FloatTensor o = FloatTensor.zeros(b, n, hd);
        backend.attention(p, FloatTensor.of(q, b, n, hd), FloatTensor.of(k, b, m, gd), FloatTensor.of(v, b, m, gd), o);
        float[] out = new float[b * n * config.dim()];
        checkFinite("mgqa.to_out", toOut.apply(o.array(), b * n, out), config.dim());
        return FloatTensor.of(out, b, n, config.dim());
    }

    /** A projection's first non-finite output ({@link JavaProjection#apply}) as the library's overflow error. */
    private static void checkFinite(String what, long bad, int width) {
        if (bad >= 0) {
            throw new NumericOverflowException(what + ": the result overflowed float32 at row " + bad / width
                    + ", column " + bad % width + ", although every input is finite: their magnitude is too large for"
                    + " float32 (scale the inputs or the weights down)");
        }
    }

    private void check(String name, FloatTensor t, int batch) {
        int[] s = t.shape();
        if (s.length != 3 || s[2] != config.dim() || s[0] <= 0 || s[1] <= 0 || (batch >= 0 && s[0] != batch)) {
            throw new IllegalArgumentException(name + ": expected shape [" + (batch >= 0 ? batch : "batch")
                    + ", tokens, " + config.dim() + "] with at least one token, got " + Arrays.toString(s));
        }
        int bad = t.firstNonFinite();
        if (bad >= 0) {
            throw new IllegalArgumentException(name + ": expected finite values, got " + t.get(bad) + " at index "
                    + t.indexString(bad));
        }
    }

    private static void checkMask(String name, Mask m, int b, int n) {
        if (m != null && (m.batch() != b || m.length() != n)) {
            throw new IllegalArgumentException(name + ": expected shape [" + b + ", " + n + "], got [" + m.batch()
                    + ", " + m.length() + "]");
        }
    }

    private static float[] array(FloatTensor t) {
        return t.hasArray() ? t.array() : t.toArray();
    }
}
