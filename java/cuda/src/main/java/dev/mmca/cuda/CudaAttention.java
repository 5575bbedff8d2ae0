package dev.mmca.cuda;

import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.BackendUnavailableException;
import dev.mmca.plan.AttentionCallPlan;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.Plan;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Fused attention on tensors that are already on the GPU: no copies, launched on the caller's stream of
 * device {@code device} and asynchronous (the caller synchronises the stream, or calls {@link #synchronize}).
 *
 * <p>Layouts are dense row-major: {@code q [B, N, H*D]}, {@code k, v [B, M, G*D]}, {@code out [B, N, H*D]},
 * in the element type {@link CudaPrecision#dtype()}; masks are {@code [B, M]} / {@code [B, N]} byte arrays
 * on the device (1 = real token) or 0 for none. The problem gives sizes and flags and must not carry host
 * masks. Addresses and streams are raw CUDA values as {@code long}s (e.g. from PyTorch's {@code data_ptr()}
 * and {@code cuda_stream}, or from JavaCPP's {@code Pointer.address()}).
 */
public final class CudaAttention {
    private CudaAttention() {
    }

    /** {@code out = attention(q, k, v)} as {@link AttentionProblem} defines it. */
    public static void attention(int device, AttentionProblem problem, CudaPrecision precision, long q, long k, long v,
            long out, long keyMask, long queryMask, long stream) {
        ParamsBlock params = single(problem, precision, q, k, v, out, keyMask, queryMask);
        requireNative();
        // no split-K workspace: the device API never allocates behind the caller's back (only speed differs)
        CudaNative.mmca_cuda_attention(device, params.address(), precision.math(), 0, 0, stream);
    }

    /**
     * The fused MMCA text operation: {@code self} and {@code cross} attention over the same queries, one
     * launch, separate softmaxes; {@code out [B, N, 2*H*D]} receives the self output in columns
     * {@code [0, H*D)} and the cross output in {@code [H*D, 2*H*D)}. {@code queryMask} applies to both.
     */
    public static void text(int device, AttentionProblem self, AttentionProblem cross, CudaPrecision precision,
            long qSelf, long kSelf, long vSelf, long selfKeyMask,
            long qCross, long kCross, long vCross, long crossKeyMask,
            long queryMask, long out, long stream) {
        check(self, precision, "self");
        check(cross, precision, "cross");
        int b = self.batch();
        int hd = self.heads() * self.dimHead();
        int gd = self.kvHeads() * self.dimHead();
        Plan.Builder p = Plan.builder();
        Map<Buffer, Long> at = new IdentityHashMap<>();
        Buffer qs = bind(at, p.input("qSelf", (long) b * self.queries(), hd), qSelf);
        Buffer ks = bind(at, p.input("kSelf", (long) b * self.keys(), gd), kSelf);
        Buffer vs = bind(at, p.input("vSelf", (long) b * self.keys(), gd), vSelf);
        Buffer qc = bind(at, p.input("qCross", (long) b * cross.queries(), hd), qCross);
        Buffer kc = bind(at, p.input("kCross", (long) b * cross.keys(), gd), kCross);
        Buffer vc = bind(at, p.input("vCross", (long) b * cross.keys(), gd), vCross);
        Buffer o = bind(at, p.output("out", (long) b * self.queries(), 2 * hd), out);
        Buffer skm = mask(at, p, "selfKeyMask", b, self.keys(), selfKeyMask);
        Buffer ckm = mask(at, p, "crossKeyMask", b, cross.keys(), crossKeyMask);
        Buffer qm = mask(at, p, "queryMask", b, self.queries(), queryMask);
        AttentionOp s = op("self", self).q(qs, 0).k(ks, 0).v(vs, 0).o(o, 0).keyMask(skm).queryMask(qm).build();
        AttentionOp c = op("cross", cross).q(qc, 0).k(kc, 0).v(vc, 0).o(o, hd).keyMask(ckm).queryMask(qm).build();
        ParamsBlock params = new ParamsBlock().put(0, s, at::get, precision.dtype()).put(1, c, at::get,
                precision.dtype());
        requireNative();
        CudaNative.mmca_cuda_text(device, params.address(), precision.math(), 0, 0, stream);
    }

    /** Waits for {@code stream} of {@code device} and reports an asynchronous kernel failure as an exception. */
    public static void synchronize(int device, long stream) {
        requireNative();
        CudaNative.mmca_cuda_synchronize(device, stream);
    }

    /**
     * Checks {@code problem} and the {@code precision} against what the kernels support, without a GPU
     * (the kernel library must be loaded); throws {@link IllegalArgumentException} naming the field.
     */
    static void validate(AttentionProblem problem, CudaPrecision precision, long q, long k, long v, long out) {
        ParamsBlock params = single(problem, precision, q, k, v, out, 0, 0);
        requireNative();
        try {
            CudaNative.mmca_cuda_validate(params.address(), precision.math());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    private static ParamsBlock single(AttentionProblem problem, CudaPrecision precision, long q, long k, long v,
            long out, long keyMask, long queryMask) {
        check(problem, precision, "problem");
        AttentionCallPlan call = AttentionCallPlan.of(problem, keyMask != 0, queryMask != 0);
        Map<Buffer, Long> at = new IdentityHashMap<>();
        at.put(call.q, q);
        at.put(call.k, k);
        at.put(call.v, v);
        at.put(call.out, out);
        if (call.keyMask != null) {
            at.put(call.keyMask, keyMask);
        }
        if (call.queryMask != null) {
            at.put(call.queryMask, queryMask);
        }
        return new ParamsBlock().put(0, call.op(), at::get, precision.dtype());
    }

    private static AttentionOp.Builder op(String name, AttentionProblem p) {
        return AttentionOp.builder(name).sizes(p.batch(), p.heads(), p.kvHeads(), p.queries(), p.keys(), p.dimHead())
                .flags(p.scale(), p.causal(), p.qkNorm(), p.headMapping());
    }

    private static Buffer bind(Map<Buffer, Long> at, Buffer b, long address) {
        at.put(b, address);
        return b;
    }

    private static Buffer mask(Map<Buffer, Long> at, Plan.Builder p, String name, int batch, int length, long address) {
        return address == 0 ? null : bind(at, p.maskInput(name, batch, length), address);
    }

    private static void check(AttentionProblem problem, CudaPrecision precision, String name) {
        Objects.requireNonNull(problem, name);
        Objects.requireNonNull(precision, "precision");
        if (problem.keyMask() != null || problem.queryMask() != null) {
            throw new IllegalArgumentException(name + ": the device API takes masks as device addresses; expected a"
                    + " problem without host masks, got " + (problem.keyMask() != null ? "a keyMask" : "a queryMask"));
        }
        String d = CudaBackend.dimHeadProblem(problem.dimHead());
        if (d != null) {
            throw new IllegalArgumentException(name + ".dimHead: " + d);
        }
    }

    static void requireNative() {
        CudaProbe probe = CudaProbe.get();
        if (!probe.nativeLoaded()) {
            throw new BackendUnavailableException("CUDA kernels unavailable: " + probe.availability().reason());
        }
    }
}
