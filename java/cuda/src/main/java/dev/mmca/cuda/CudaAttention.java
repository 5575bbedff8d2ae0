package dev.mmca.cuda;

import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.BackendUnavailableException;
import java.util.Objects;

/**
 * Fused attention on tensors that are already on the GPU: no copies, launched on the caller's
 * stream and asynchronous (the caller synchronises the stream, or calls {@link #synchronize}).
 *
 * <p>Layouts are dense row-major: {@code q [B, N, H*D]}, {@code k, v [B, M, G*D]}, {@code out [B, N, H*D]},
 * in the element type {@link CudaPrecision#dtype()}; masks are {@code [B, M]} / {@code [B, N]} byte
 * arrays on the device (1 = real token) or 0 for none. The problem gives sizes and flags and must
 * not carry host masks. Addresses and streams are raw CUDA values as {@code long}s (e.g. from
 * PyTorch's {@code data_ptr()} and {@code cuda_stream}, or from JavaCPP's {@code Pointer.address()}).
 */
public final class CudaAttention {
    private CudaAttention() {
    }

    /** {@code out = attention(q, k, v)} as {@link AttentionProblem} defines it. */
    public static void attention(AttentionProblem problem, CudaPrecision precision, long q, long k, long v, long out,
            long keyMask, long queryMask, long stream) {
        AttentionDescriptor d = describe(problem, precision, "problem")
                .pointers(q, k, v, out)
                .masks(keyMask, problem.keys(), queryMask, problem.queries());
        requireNative();
        CudaNative.mmca_cuda_attention(d.slots(), AttentionDescriptor.LENGTH, precision.math(), stream);
    }

    /**
     * The fused MMCA text operation: {@code self} and {@code cross} attention over the same queries, one
     * launch, separate softmaxes; {@code out [B, N, 2*H*D]} receives the self output in columns
     * {@code [0, H*D)} and the cross output in {@code [H*D, 2*H*D)}. {@code queryMask} applies to both.
     */
    public static void text(AttentionProblem self, AttentionProblem cross, CudaPrecision precision,
            long qSelf, long kSelf, long vSelf, long selfKeyMask,
            long qCross, long kCross, long vCross, long crossKeyMask,
            long queryMask, long out, long stream) {
        AttentionDescriptor s = describe(self, precision, "self");
        AttentionDescriptor c = describe(cross, precision, "cross");
        long hd = (long) self.heads() * self.dimHead();
        long elem = precision.dtype().bytes();
        for (AttentionDescriptor d : new AttentionDescriptor[] {s, c}) {
            d.strides(AttentionDescriptor.O_STRIDES, self.queries() * 2 * hd, 2 * hd, self.dimHead());
        }
        s.pointers(qSelf, kSelf, vSelf, out).masks(selfKeyMask, self.keys(), queryMask, self.queries());
        c.pointers(qCross, kCross, vCross, out == 0 ? 0 : out + hd * elem)
                .masks(crossKeyMask, cross.keys(), queryMask, cross.queries());
        requireNative();
        CudaNative.mmca_cuda_text(s.slots(), c.slots(), AttentionDescriptor.LENGTH, precision.math(), stream);
    }

    /** Waits for {@code stream} and reports an asynchronous kernel failure as an exception. */
    public static void synchronize(long stream) {
        requireNative();
        CudaNative.mmca_cuda_synchronize(stream);
    }

    /**
     * Checks {@code problem} and the {@code precision} against what the kernels support, without a GPU
     * (the kernel library must be loaded); throws {@link IllegalArgumentException} naming the field.
     */
    static void validate(AttentionProblem problem, CudaPrecision precision, long q, long k, long v, long out) {
        AttentionDescriptor d = describe(problem, precision, "problem").pointers(q, k, v, out);
        requireNative();
        try {
            CudaNative.mmca_cuda_validate(d.slots(), AttentionDescriptor.LENGTH, precision.math());
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }

    static AttentionDescriptor describe(AttentionProblem problem, CudaPrecision precision, String name) {
        Objects.requireNonNull(problem, name);
        Objects.requireNonNull(precision, "precision");
        if (problem.keyMask() != null || problem.queryMask() != null) {
            throw new IllegalArgumentException(name + ": the device API takes masks as device addresses; expected a"
                    + " problem without host masks, got " + (problem.keyMask() != null ? "a keyMask" : "a queryMask"));
        }
        if (!CudaBackend.SUPPORTED_DIM_HEADS.contains(problem.dimHead())) {
            throw new IllegalArgumentException(name + ".dimHead: " + CudaBackend.unsupportedDimHead(problem.dimHead()));
        }
        return AttentionDescriptor.of(problem, precision.dtype());
    }

    static void requireNative() {
        CudaProbe probe = CudaProbe.get();
        if (!probe.nativeLoaded()) {
            throw new BackendUnavailableException("CUDA kernels unavailable: " + probe.availability().reason());
        }
    }

}
