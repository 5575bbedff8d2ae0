package dev.mmca.workload;

import dev.mmca.Composition;
import dev.mmca.HeadMapping;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaFlops;
import dev.mmca.backend.AttentionProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One benchmark shape, the one definition that {@code mmca bench} and {@code java/bench} both time: a whole
 * SimpleMMCA forward (CROSS composition), one fused attention call, or incremental decoding (a visual context
 * encoded once, then the text one token per step). Head mapping is always GROUPED, the convention PyTorch SDPA uses with {@code enable_gqa}, so
 * that libtorch computes exactly the same function.
 */
public final class Workload {
    /** What is timed. */
    public enum Kind { FORWARD, ATTENTION, DECODE }

    private final String name;
    private final Kind kind;
    private final int batch;
    private final int heads;
    private final int kvHeads;
    private final int dimHead;
    private final boolean causal;
    // FORWARD and DECODE: visual and text tokens and the model width. ATTENTION: queries (N) and keys (M); dim unused.
    private final int first;
    private final int second;
    private final int dim;

    private Workload(String name, Kind kind, int batch, int heads, int kvHeads, int dimHead, boolean causal,
            int first, int second, int dim) {
        this.name = name;
        this.kind = kind;
        this.batch = batch;
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.dimHead = dimHead;
        this.causal = causal;
        this.first = first;
        this.second = second;
        this.dim = dim;
    }

    /** SimpleMMCA forward, CROSS composition, text self-attention causal when {@code causal}. */
    public static Workload forward(String name, int batch, int visualTokens, int textTokens, int dim, int heads,
            int kvHeads, int dimHead, boolean causal) {
        return new Workload(name, Kind.FORWARD, batch, heads, kvHeads, dimHead, causal, visualTokens, textTokens,
                dim);
    }

    /** One fused attention call with N queries and M keys, without masks. */
    public static Workload attention(String name, int batch, int heads, int kvHeads, int queries, int keys,
            int dimHead, boolean causal) {
        return new Workload(name, Kind.ATTENTION, batch, heads, kvHeads, dimHead, causal, queries, keys, 0);
    }

    /**
     * Incremental decoding with the model of a CROSS forward: {@code visualTokens} encoded once into a visual
     * context, then {@code textTokens} text tokens appended one per step (causal text).
     */
    public static Workload decode(String name, int batch, int visualTokens, int textTokens, int dim, int heads,
            int kvHeads, int dimHead) {
        return new Workload(name, Kind.DECODE, batch, heads, kvHeads, dimHead, true, visualTokens, textTokens, dim);
    }

    /**
     * The decoding workload D1 (the W2 model; a visual context of 576 tokens, then 512 text tokens one at a time)
     * at batch 1 and batch 8: both are named D1 and told apart by their batch.
     */
    public static List<Workload> decoding() {
        return List.of(decode("D1", 1, 576, 512, 1024, 16, 4, 64), decode("D1", 8, 576, 512, 1024, 16, 4, 64));
    }

    /** D1's structure at sizes that run in milliseconds. */
    public static List<Workload> decodingSmall() {
        return List.of(decode("D1", 1, 23, 17, 128, 16, 4, 64), decode("D1", 3, 23, 17, 128, 16, 4, 64));
    }

    /** The published workloads W1, W2, A1, A2, A3 (the decoding workloads are {@link #decoding()}). */
    public static List<Workload> standard() {
        return List.of(
                forward("W1", 32, 10, 10, 512, 8, 2, 64, true),
                forward("W2", 4, 576, 512, 1024, 16, 4, 64, true),
                attention("A1", 1, 16, 4, 2048, 2048, 64, true),
                attention("A2", 4, 16, 4, 512, 576, 64, false),
                attention("A3", 1, 8, 2, 8192, 8192, 64, true));
    }

    /**
     * The same structures as {@link #standard()} (heads, kv heads, head width, causality, N != M where
     * the original has it) at sizes that run in milliseconds; used by the default test build.
     */
    public static List<Workload> small() {
        return List.of(
                forward("W1", 3, 10, 10, 96, 8, 2, 64, true),
                forward("W2", 2, 23, 17, 128, 16, 4, 64, true),
                attention("A1", 1, 16, 4, 64, 64, 64, true),
                attention("A2", 2, 16, 4, 24, 29, 64, false),
                attention("A3", 1, 8, 2, 130, 130, 64, true));
    }

    /**
     * The three attention calls inside a FORWARD workload (visual self, text self, text-to-visual cross),
     * as ATTENTION workloads named {@code <name>.visual}, {@code .text}, {@code .cross}; timing them
     * alone splits a forward's time into attention and everything else (mostly projection GEMMs).
     */
    public List<Workload> attentionParts() {
        requireKind(Kind.FORWARD);
        MmcaConfig c = config();
        return List.of(
                attention(name + ".visual", batch, heads, kvHeads, first, first, dimHead, c.visualCausal()),
                attention(name + ".text", batch, heads, kvHeads, second, second, dimHead, c.textCausal()),
                attention(name + ".cross", batch, heads, kvHeads, second, first, dimHead, c.crossCausal()));
    }

    /**
     * Looks up names (case-insensitive) among {@code from}, in the order asked; a name shared by several workloads
     * (D1 at two batch sizes) gives all of them.
     */
    public static List<Workload> select(List<Workload> from, List<String> names) {
        List<Workload> out = new ArrayList<>();
        for (String n : names) {
            boolean found = false;
            for (Workload w : from) {
                if (w.name.equalsIgnoreCase(n.trim())) {
                    out.add(w);
                    found = true;
                }
            }
            if (!found) {
                List<String> known = new ArrayList<>();
                from.forEach(w -> known.add(w.name));
                throw new IllegalArgumentException("workload: expected one of " + known.stream().distinct().toList()
                        + ", got '" + n + "'");
            }
        }
        return out;
    }

    public String name() { return name; }
    public Kind kind() { return kind; }
    public int batch() { return batch; }
    public int heads() { return heads; }
    public int kvHeads() { return kvHeads; }
    public int dimHead() { return dimHead; }
    public boolean causal() { return causal; }

    public int visualTokens() { requireModel(); return first; }
    public int textTokens() { requireModel(); return second; }
    public int dim() { requireModel(); return dim; }
    public int queries() { requireKind(Kind.ATTENTION); return first; }
    public int keys() { requireKind(Kind.ATTENTION); return second; }

    /** The model config of a FORWARD or DECODE workload. */
    public MmcaConfig config() {
        requireModel();
        return MmcaConfig.builder().dim(dim).heads(heads).kvHeads(kvHeads).dimHead(dimHead).causal(causal)
                .composition(Composition.CROSS).headMapping(HeadMapping.GROUPED).build();
    }

    /** The attention call of an ATTENTION workload. */
    public AttentionProblem problem() {
        requireKind(Kind.ATTENTION);
        return problem(batch, first, second, causal);
    }

    private AttentionProblem problem(int b, int n, int m, boolean isCausal) {
        return AttentionProblem.builder().batch(b).heads(heads).kvHeads(kvHeads).queries(n).keys(m)
                .dimHead(dimHead).causal(isCausal).headMapping(HeadMapping.GROUPED).build();
    }

    /**
     * Floating-point operations of one call. Attention: {@link AttentionProblem#flops()} ({@code 4 * D}
     * per visible query-key pair per head). Forward: every projection GEMM ({@code 2 * rows * in * out})
     * plus the attention of the three blocks; the final addition of the two text branches is not counted.
     */
    public double flops() {
        if (kind == Kind.ATTENTION) {
            return problem().flops();
        }
        if (kind == Kind.DECODE) {
            return stepFlops();
        }
        return MmcaFlops.forward(config(), batch, first, second);
    }

    /**
     * DECODE: floating-point operations of the last step (one new text token per batch element, the cache holding
     * every earlier text token): the text projections {@code 2 * B * dim * (2 H D + 2 G D)}, the two output
     * projections {@code 2 * B * 2 H D * dim}, and attention over {@code Nt} text and {@code Nv} visual keys
     * ({@code 4 D} per query-key pair per head).
     */
    public double stepFlops() {
        requireKind(Kind.DECODE);
        double hd = (double) heads * dimHead;
        double gd = (double) kvHeads * dimHead;
        double projections = 2.0 * batch * dim * (2 * hd + 2 * gd) + 2.0 * batch * 2 * hd * dim;
        double attention = 4.0 * dimHead * heads * batch * ((double) second + first);
        return projections + attention;
    }

    /**
     * DECODE: bytes the last step must read from memory at least: the float32 weights of the text path (text
     * self-attention q, k, v and out, cross-attention q and out: {@code 4 * dim * (4 H D + 2 G D)}), and per batch
     * element the cross-attention keys and values of the visual context ({@code 4 * Nv * 2 G D}) and the text
     * cache with the new token ({@code 4 * Nt * 2 G D}). Over the machine's read bandwidth this is the step's
     * lower bound in time.
     */
    public long stepBytes() {
        requireKind(Kind.DECODE);
        long hd = (long) heads * dimHead;
        long gd = (long) kvHeads * dimHead;
        long weights = (long) dim * (4 * hd + 2 * gd);
        long caches = (long) batch * ((long) first + second) * 2 * gd;
        return Float.BYTES * (weights + caches);
    }

    /** A one-line description of the shape, as used in tables. */
    public String describe() {
        if (kind == Kind.DECODE) {
            return String.format(Locale.ROOT, "decoding B=%d, visual context Nv=%d, then Nt=%d text tokens one per step,"
                    + " dim=%d H=%d G=%d D=%d CROSS causal", batch, first, second, dim, heads, kvHeads, dimHead);
        }
        if (kind == Kind.FORWARD) {
            return String.format(Locale.ROOT, "SimpleMMCA forward B=%d Nv=%d Nt=%d dim=%d H=%d G=%d D=%d %s",
                    batch, first, second, dim, heads, kvHeads, dimHead, causal ? "CROSS causal" : "CROSS");
        }
        return String.format(Locale.ROOT, "attention B=%d H=%d G=%d N=%d M=%d D=%d %s", batch, heads, kvHeads,
                first, second, dimHead, causal ? "causal" : "non-causal");
    }

    private void requireModel() {
        if (kind == Kind.ATTENTION) {
            throw new IllegalStateException("workload " + name + " is " + kind + ", not FORWARD or DECODE");
        }
    }

    private void requireKind(Kind k) {
        if (kind != k) {
            throw new IllegalStateException("workload " + name + " is " + kind + ", not " + k);
        }
    }

    @Override
    public String toString() {
        return name + " (" + describe() + ")";
    }
}
