package dev.mmca.bench.onnx;

import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.bench.WorkloadData;
import dev.mmca.workload.Workload;

/**
 * The benchmark workloads as ONNX models, written the way {@code torch.onnx.export} writes the upstream
 * PyTorch module (opset 17): every {@code nn.Linear} a MatMul with the transposed weight as initializer,
 * attention as Reshape/Transpose into heads, the kv heads repeated for grouped-query attention (Expand,
 * PyTorch SDPA's {@code enable_gqa} layout, GROUPED mapping), MatMul, Mul by the scale, an additive causal
 * mask, Softmax, MatMul, and back. Static shapes, so the runtime can fold every shape computation.
 */
public final class MmcaOnnx {
    private final OnnxGraph g = new OnnxGraph();
    private final Workload w;

    private MmcaOnnx(Workload w) {
        this.w = w;
    }

    /** The model of {@code data}'s workload with its weights: a SimpleMMCA forward or one attention call. */
    public static byte[] model(WorkloadData data) {
        Workload w = data.workload();
        MmcaOnnx m = new MmcaOnnx(w);
        if (w.kind() == Workload.Kind.FORWARD) {
            m.forward(data);
        } else {
            m.attentionCall();
        }
        return m.g.model(w.name());
    }

    /** Input names of the model, in the order {@link WorkloadData} provides them. */
    public static String[] inputNames(Workload w) {
        return w.kind() == Workload.Kind.FORWARD ? new String[] {"visual", "text"} : new String[] {"q", "k", "v"};
    }

    private void attentionCall() {
        long b = w.batch();
        long hd = (long) w.heads() * w.dimHead();
        long gd = (long) w.kvHeads() * w.dimHead();
        String q = g.input("q", b, w.queries(), hd);
        String k = g.input("k", b, w.keys(), gd);
        String v = g.input("v", b, w.keys(), gd);
        g.output("out", attention(q, k, v, w.queries(), w.keys(), w.causal(), w.problem().scale()), b, w.queries(), hd);
    }

    private void forward(WorkloadData data) {
        MmcaConfig c = w.config();
        long b = w.batch();
        String visual = g.input("visual", b, w.visualTokens(), c.dim());
        String text = g.input("text", b, w.textTokens(), c.dim());
        // CROSS (SPEC "SimpleMMCA"): visual self-attention; text self-attention plus cross-attention to the
        // visual output, added.
        String vis = block(data.weights().visualSelf(), visual, visual, w.visualTokens(), w.visualTokens(),
                c.visualCausal());
        String self = block(data.weights().textualSelf(), text, text, w.textTokens(), w.textTokens(), c.textCausal());
        String cross = block(data.weights().cross(), text, vis, w.textTokens(), w.visualTokens(), c.crossCausal());
        g.output("visual_out", vis, b, w.visualTokens(), c.dim());
        g.output("text_out", g.op("Add", null, self, cross), b, w.textTokens(), c.dim());
    }

    /** One MGQA block: to_out(attention(to_q(x), to_k(ctx), to_v(ctx))). */
    private String block(MgqaWeights weights, String x, String ctx, int n, int m, boolean causal) {
        String q = linear(x, weights.toQ());
        String k = linear(ctx, weights.toK());
        String v = linear(ctx, weights.toV());
        return linear(attention(q, k, v, n, m, causal, w.config().scale()), weights.toOut());
    }

    /** {@code x W^T} as torch exports nn.Linear without bias: MatMul with the transposed weight. */
    private String linear(String x, FloatTensor weight) {
        int out = weight.dim(0);
        int in = weight.dim(1);
        float[] src = weight.toArray();
        float[] t = new float[src.length];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                t[i * out + o] = src[o * in + i];
            }
        }
        return g.op("MatMul", null, x, g.constant(t, in, out));
    }

    /** q {@code [B, N, H*D]}, k and v {@code [B, M, G*D]} to {@code [B, N, H*D]} (SPEC steps 2 to 5, GROUPED). */
    private String attention(String q, String k, String v, int n, int m, boolean causal, float scale) {
        long b = w.batch();
        long h = w.heads();
        long kv = w.kvHeads();
        long d = w.dimHead();
        long r = h / kv;
        String qh = g.op("Transpose", OnnxGraph.Attrs.of().ints("perm", 0, 2, 1, 3),
                g.op("Reshape", null, q, g.ints(b, n, h, d)));                      // [B, H, N, D]
        String kt = g.op("Transpose", OnnxGraph.Attrs.of().ints("perm", 0, 2, 3, 1),
                g.op("Reshape", null, k, g.ints(b, m, kv, d)));                     // [B, G, D, M]
        String vh = g.op("Transpose", OnnxGraph.Attrs.of().ints("perm", 0, 2, 1, 3),
                g.op("Reshape", null, v, g.ints(b, m, kv, d)));                     // [B, G, M, D]
        if (r > 1) {  // kv head g serves query heads g*r .. g*r + r - 1
            kt = repeat(kt, b, kv, r, d, m);
            vh = repeat(vh, b, kv, r, m, d);
        }
        String s = g.op("Mul", null, g.op("MatMul", null, qh, kt), g.constant(new float[] {scale}));  // [B, H, N, M]
        if (causal) {  // right-aligned: query i sees keys j <= i + (M - N)
            float[] mask = new float[n * m];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    mask[i * m + j] = j <= i + (m - n) ? 0f : Float.NEGATIVE_INFINITY;
                }
            }
            s = g.op("Add", null, s, g.constant(mask, n, m));
        }
        String p = g.op("Softmax", OnnxGraph.Attrs.of().i("axis", -1), s);
        String o = g.op("MatMul", null, p, vh);                                      // [B, H, N, D]
        return g.op("Reshape", null, g.op("Transpose", OnnxGraph.Attrs.of().ints("perm", 0, 2, 1, 3), o),
                g.ints(b, n, h * d));
    }

    /** {@code [B, G, x, y]} to {@code [B, G*r, x, y]}, each kv head repeated r times in place. */
    private String repeat(String t, long b, long kv, long r, long x, long y) {
        String e = g.op("Expand", null, g.op("Reshape", null, t, g.ints(b, kv, 1, x, y)), g.ints(b, kv, r, x, y));
        return g.op("Reshape", null, e, g.ints(b, kv * r, x, y));
    }
}
