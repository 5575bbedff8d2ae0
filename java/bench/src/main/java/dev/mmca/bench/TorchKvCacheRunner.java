package dev.mmca.bench;

import dev.mmca.MgqaWeights;
import dev.mmca.MmcaWeights;
import dev.mmca.workload.Workload;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The decoding peer: libtorch with a key/value cache written by hand, the way a PyTorch user writes a decoding
 * loop. Once, when built: the visual self-attention block over the visual tokens, then the cross block's keys and
 * values projected from its output ({@code [B, G, Nv, D]}, made contiguous once). Per step, for the new token x:
 * q, k and v of the text self-attention block ({@code torch::linear}), k and v appended to the cache, SDPA with
 * {@code enable_gqa} over the cache (no mask: the one query is the newest token and sees every cached key), the
 * cross block's query and SDPA over the visual keys and values, the two {@code to_out} projections, added. All
 * under {@code InferenceMode}; every step's temporaries are freed by a {@link PointerScope}.
 *
 * <p>Two ways of growing the cache, two runners:
 * <ul>
 *   <li>{@link Cache#CONCATENATED}: {@code cache = torch.cat([cache, k], dim=2)}, a new tensor each step (the
 *       usual user code; each step copies the whole cache);</li>
 *   <li>{@link Cache#PREALLOCATED}: a {@code [B, G, Nt, D]} buffer allocated once, the new k and v written with
 *       {@code narrow(2, L, 1).copy_(k)}, and SDPA reading the view {@code narrow(2, 0, L + 1)} (no copy of the
 *       earlier tokens).</li>
 * </ul>
 * The last step's rollback keeps the earlier cache tensor (concatenated) or the earlier length (preallocated).
 */
public final class TorchKvCacheRunner implements DecodeRunner {
    @Override
    public int settleMillis() {
        return TorchPeer.SETTLE_MS;
    }

    /** How the cache grows by one token. */
    public enum Cache {
        CONCATENATED("libtorch-kv-cat"),
        PREALLOCATED("libtorch-kv-preallocated");

        private final String runnerName;

        Cache(String runnerName) {
            this.runnerName = runnerName;
        }

        public String runnerName() {
            return runnerName;
        }
    }

    private final Cache cache;
    private final int batch;
    private final int heads;
    private final int kvHeads;
    private final int dimHead;
    private final int textTokens;
    private final int dim;
    private final Tensor textQ;
    private final Tensor textK;
    private final Tensor textV;
    private final Tensor textOut;
    private final Tensor crossQ;
    private final Tensor crossOut;
    private final Tensor crossKeys;
    private final Tensor crossValues;
    private final Tensor[] steps;
    private final Tensor rows;
    private final DoubleOptional scale;
    private final TensorOptional noMask;
    private final boolean[] computed;
    // CONCATENATED: exactly [B, G, length, D]; PREALLOCATED: [B, G, Nt, D] buffers of which length tokens are used.
    private Tensor keys;
    private Tensor values;
    private int length;

    @SuppressWarnings("try") // the scope and the guard act by existing
    public TorchKvCacheRunner(WorkloadData data, Cache cache) {
        TorchPeer.load();
        Workload w = data.workload();
        if (w.kind() != Workload.Kind.DECODE) {
            throw new IllegalArgumentException("data: expected a DECODE workload, got " + w);
        }
        this.cache = cache;
        this.batch = w.batch();
        this.heads = w.heads();
        this.kvHeads = w.kvHeads();
        this.dimHead = w.dimHead();
        this.textTokens = w.textTokens();
        this.dim = w.dim();
        this.computed = new boolean[textTokens];
        this.scale = new DoubleOptional(w.config().scale());
        this.noMask = new TensorOptional();
        MmcaWeights weights = data.weights();
        MgqaWeights textual = weights.textualSelf();
        MgqaWeights cross = weights.cross();
        try (InferenceMode guard = new InferenceMode()) {
            textQ = TorchPeer.copyOf(textual.toQ());
            textK = TorchPeer.copyOf(textual.toK());
            textV = TorchPeer.copyOf(textual.toV());
            textOut = TorchPeer.copyOf(textual.toOut());
            crossQ = TorchPeer.copyOf(cross.toQ());
            crossOut = TorchPeer.copyOf(cross.toOut());
            steps = new Tensor[textTokens];
            for (int i = 0; i < textTokens; i++) {
                steps[i] = TorchPeer.copyOf(data.text().tokens(i, 1));
            }
            rows = torch.zeros(batch, textTokens, dim);
            try (PointerScope scope = new PointerScope()) {
                MgqaWeights vs = weights.visualSelf();
                Tensor visual = TorchPeer.copyOf(data.visual());
                Tensor vq = TorchPeer.copyOf(vs.toQ());
                Tensor vk = TorchPeer.copyOf(vs.toK());
                Tensor vv = TorchPeer.copyOf(vs.toV());
                Tensor vo = TorchPeer.copyOf(vs.toOut());
                long nv = visual.size(1);
                Tensor q = heads(torch.linear(visual, vq), heads);
                Tensor k = heads(torch.linear(visual, vk), kvHeads);
                Tensor v = heads(torch.linear(visual, vv), kvHeads);
                Tensor attended = torch.scaled_dot_product_attention(q, k, v, noMask, 0.0, false, scale, true);
                Tensor visualOut = torch.linear(tokens(attended, nv), vo);
                crossKeys = heads(torch.linear(visualOut, TorchPeer.copyOf(cross.toK())), kvHeads).contiguous();
                crossValues = heads(torch.linear(visualOut, TorchPeer.copyOf(cross.toV())), kvHeads).contiguous();
                crossKeys.retainReference();
                crossValues.retainReference();
            }
            if (cache == Cache.PREALLOCATED) {
                keys = torch.empty(batch, kvHeads, textTokens, dimHead);
                values = torch.empty(batch, kvHeads, textTokens, dimHead);
            } else {
                keys = torch.empty(batch, kvHeads, 0, dimHead);
                values = torch.empty(batch, kvHeads, 0, dimHead);
            }
        }
    }

    /** {@code [B, N, n*D]} to the heads view {@code [B, n, N, D]}. */
    private Tensor heads(Tensor x, int n) {
        return x.view(x.size(0), x.size(1), n, dimHead).transpose(1, 2);
    }

    /** The heads view {@code [B, H, N, D]} back to tokens {@code [B, N, H*D]}. */
    private Tensor tokens(Tensor x, long n) {
        return x.transpose(1, 2).reshape(x.size(0), n, (long) heads * dimHead);
    }

    @Override
    public String name() {
        return cache.runnerName();
    }

    @Override
    @SuppressWarnings("try")
    public void decodeSequence() {
        try (InferenceMode guard = new InferenceMode()) {
            rollBack(0);
            for (int i = 0; i < textTokens; i++) {
                step(i, true);
            }
        }
    }

    @Override
    @SuppressWarnings("try")
    public void lastStep() {
        int last = textTokens - 1;
        try (InferenceMode guard = new InferenceMode()) {
            if (length < last) {
                rollBack(0);
                for (int i = 0; i < last; i++) {
                    step(i, true);
                }
            }
            rollBack(last);
            step(last, false);
        }
    }

    /**
     * Decodes text token {@code position} (the cache holds tokens {@code 0..position-1}) into its row of
     * {@link #rows}; with {@code keep}, the new token's key and value stay in the cache.
     */
    @SuppressWarnings("try")
    private void step(int position, boolean keep) {
        try (PointerScope scope = new PointerScope()) {
            Tensor x = steps[position];
            Tensor q = heads(torch.linear(x, textQ), heads);
            Tensor k = heads(torch.linear(x, textK), kvHeads);
            Tensor v = heads(torch.linear(x, textV), kvHeads);
            Tensor cachedKeys;
            Tensor cachedValues;
            if (cache == Cache.CONCATENATED) {
                cachedKeys = torch.cat(new TensorVector(keys, k), 2);
                cachedValues = torch.cat(new TensorVector(values, v), 2);
            } else {
                keys.narrow(2, length, 1).copy_(k);
                values.narrow(2, length, 1).copy_(v);
                cachedKeys = keys.narrow(2, 0, length + 1);
                cachedValues = values.narrow(2, 0, length + 1);
            }
            Tensor self = torch.scaled_dot_product_attention(q, cachedKeys, cachedValues, noMask, 0.0, false, scale,
                    true);
            Tensor qc = heads(torch.linear(x, crossQ), heads);
            Tensor crossAttended = torch.scaled_dot_product_attention(qc, crossKeys, crossValues, noMask, 0.0, false,
                    scale, true);
            Tensor out = torch.linear(tokens(self, 1), textOut).add(torch.linear(tokens(crossAttended, 1), crossOut));
            rows.narrow(1, position, 1).copy_(out);
            computed[position] = true;
            if (keep) {
                if (cache == Cache.CONCATENATED) {
                    // the new cache outlives this scope; the old one is freed now
                    cachedKeys.retainReference();
                    cachedValues.retainReference();
                    keys.close();
                    values.close();
                    keys = cachedKeys;
                    values = cachedValues;
                }
                length = position + 1;
            }
        }
    }

    /** Drops the cached tokens from {@code newLength} on. */
    @SuppressWarnings("try")
    private void rollBack(int newLength) {
        if (newLength >= length) {
            return;
        }
        if (cache == Cache.CONCATENATED) {
            try (PointerScope scope = new PointerScope()) {
                // contiguous, as the cache of a loop that just reached this length would be
                Tensor k = keys.narrow(2, 0, newLength).contiguous();
                Tensor v = values.narrow(2, 0, newLength).contiguous();
                k.retainReference();
                v.retainReference();
                keys.close();
                values.close();
                keys = k;
                values = v;
            }
        }
        length = newLength;
    }

    @Override
    public float[] decodedRows() {
        return TorchPeer.toArray(rows);
    }

    @Override
    public int[] decodedPositions() {
        return IntStream.range(0, textTokens).filter(i -> computed[i]).toArray();
    }

    @Override
    public void close() {
        for (Tensor t : new Tensor[] {textQ, textK, textV, textOut, crossQ, crossOut, crossKeys, crossValues, rows,
                keys, values}) {
            t.close();
        }
        for (Tensor t : steps) {
            t.close();
        }
        scale.close();
        noMask.close();
    }
}
