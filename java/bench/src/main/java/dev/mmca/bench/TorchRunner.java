package dev.mmca.bench;

import dev.mmca.workload.Workload;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.InferenceMode;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * The peer: the same workload written the way a PyTorch user writes it, in libtorch through the
 * JavaCPP presets. Projections are {@code torch::linear} (nn.Linear without bias), attention is
 * {@code scaled_dot_product_attention(q, k, v, mask, 0.0, is_causal, scale, enable_gqa=true)} on
 * {@code [B, heads, tokens, D]} views, all under {@code InferenceMode} (no autograd).
 *
 * <p>SDPA's {@code is_causal} aligns the causal mask top-left ({@code j <= i}); SPEC aligns it
 * bottom-right ({@code j <= i + M - N}). The two agree when N == M, which is every causal call of
 * the benchmark workloads; for N != M an explicit boolean mask is passed instead.
 */
public final class TorchRunner implements Runner {
    private final Workload workload;
    private final Tensor[] weights; // [visual, textual, cross] x [q, k, v, out]
    private final Tensor visual;
    private final Tensor text;
    private final Tensor q;
    private final Tensor k;
    private final Tensor v;
    private final DoubleOptional scale;
    private Tensor lastA;
    private Tensor lastB;

    @Override
    public int settleMillis() {
        return TorchPeer.SETTLE_MS;
    }

    public TorchRunner(WorkloadData data) {
        TorchPeer.load();
        this.workload = data.workload();
        if (workload.kind() == Workload.Kind.FORWARD) {
            MmcaWeights w = data.weights();
            this.weights = new Tensor[12];
            MgqaWeights[] blocks = {w.visualSelf(), w.textualSelf(), w.cross()};
            for (int b = 0; b < 3; b++) {
                weights[4 * b] = TorchPeer.copyOf(blocks[b].toQ());
                weights[4 * b + 1] = TorchPeer.copyOf(blocks[b].toK());
                weights[4 * b + 2] = TorchPeer.copyOf(blocks[b].toV());
                weights[4 * b + 3] = TorchPeer.copyOf(blocks[b].toOut());
            }
            this.visual = TorchPeer.copyOf(data.visual());
            this.text = TorchPeer.copyOf(data.text());
            this.scale = new DoubleOptional(workload.config().scale());
            this.q = null;
            this.k = null;
            this.v = null;
        } else {
            this.weights = null;
            this.visual = null;
            this.text = null;
            this.q = TorchPeer.copyOf(data.q());
            this.k = TorchPeer.copyOf(data.k());
            this.v = TorchPeer.copyOf(data.v());
            this.scale = new DoubleOptional(workload.problem().scale());
        }
    }

    @Override
    public String name() {
        return "libtorch";
    }

    @Override
    @SuppressWarnings("try") // the scope and the guard act by existing: they are never referenced
    public void run() {
        releaseLast();
        try (PointerScope scope = new PointerScope(); InferenceMode guard = new InferenceMode()) {
            if (workload.kind() == Workload.Kind.FORWARD) {
                MmcaConfig c = workload.config();
                // CROSS composition (SPEC "SimpleMMCA"): visual self-attention, then text self-attention
                // plus cross-attention from the text to the visual block's output, added.
                Tensor vis = mgqa(0, visual, visual, c.visualCausal());
                Tensor self = mgqa(1, text, text, c.textCausal());
                Tensor cross = mgqa(2, text, vis, c.crossCausal());
                Tensor txt = self.add(cross);
                lastA = vis;
                lastB = txt;
            } else {
                int d = workload.dimHead();
                lastA = attend(q, k, v, workload.heads(), workload.kvHeads(), d, workload.causal());
            }
            // Keep the results alive past the scope, which frees every other temporary.
            lastA.retainReference();
            if (lastB != null) {
                lastB.retainReference();
            }
        }
    }

    /** One MGQA block: {@code to_out(sdpa(to_q(x), to_k(ctx), to_v(ctx)))}. */
    private Tensor mgqa(int block, Tensor x, Tensor ctx, boolean causal) {
        Tensor qp = torch.linear(x, weights[4 * block]);
        Tensor kp = torch.linear(ctx, weights[4 * block + 1]);
        Tensor vp = torch.linear(ctx, weights[4 * block + 2]);
        Tensor o = attend(qp, kp, vp, workload.heads(), workload.kvHeads(), workload.dimHead(), causal);
        return torch.linear(o, weights[4 * block + 3]);
    }

    /** {@code [B, N, H*D]} q and {@code [B, M, G*D]} k, v in; {@code [B, N, H*D]} out. */
    private Tensor attend(Tensor qf, Tensor kf, Tensor vf, int heads, int kvHeads, int d, boolean causal) {
        long b = qf.size(0);
        long n = qf.size(1);
        long m = kf.size(1);
        Tensor qh = qf.view(b, n, heads, d).transpose(1, 2);
        Tensor kh = kf.view(b, m, kvHeads, d).transpose(1, 2);
        Tensor vh = vf.view(b, m, kvHeads, d).transpose(1, 2);
        TensorOptional mask = new TensorOptional();
        boolean isCausal = causal;
        if (causal && n != m) {
            // Bottom-right aligned causal mask: query i sees keys j <= i + (M - N).
            mask = new TensorOptional(torch.ones(n, m).tril(m - n).to(torch.ScalarType.Bool));
            isCausal = false;
        }
        Tensor o = torch.scaled_dot_product_attention(qh, kh, vh, mask, 0.0, isCausal, scale, true);
        return o.transpose(1, 2).reshape(b, n, (long) heads * d);
    }

    @Override
    public float[] result() {
        if (lastA == null) {
            throw new IllegalStateException("result() before run()");
        }
        float[] a = TorchPeer.toArray(lastA);
        if (lastB == null) {
            return a;
        }
        float[] b = TorchPeer.toArray(lastB);
        float[] all = new float[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    private void releaseLast() {
        if (lastA != null) {
            lastA.close();
            lastA = null;
        }
        if (lastB != null) {
            lastB.close();
            lastB = null;
        }
    }

    @Override
    public void close() {
        releaseLast();
        for (Tensor t : new Tensor[] {visual, text, q, k, v}) {
            if (t != null) {
                t.close();
            }
        }
        if (weights != null) {
            for (Tensor t : weights) {
                t.close();
            }
        }
        scale.close();
    }
}
