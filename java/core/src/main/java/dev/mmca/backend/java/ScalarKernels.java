package dev.mmca.backend.java;

import dev.mmca.plan.PackedWeight;

/** The kernels every JVM runs: plain Java loops laid out for C2's auto-vectoriser. */
final class ScalarKernels implements JavaKernels {
    static final ScalarKernels INSTANCE = new ScalarKernels();

    private ScalarKernels() {
    }

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public String detail() {
        return "plain Java loops";
    }

    @Override
    public int vectorBits() {
        return 0;
    }

    @Override
    public Projection projection(PackedWeight w) {
        return PackedLinear.of(w);
    }

    @Override
    public long attention(AttentionArgs a) {
        return FusedAttention.run(a);
    }

    @Override
    public long interleaved(AttentionArgs a, byte[] modality, int modalityStride, boolean block) {
        return InterleavedAttention.run(a, modality, modalityStride, block);
    }
}
