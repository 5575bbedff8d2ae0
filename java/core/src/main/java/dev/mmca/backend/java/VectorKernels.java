package dev.mmca.backend.java;

import dev.mmca.plan.PackedWeight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java backend's kernels on the Vector API ({@code jdk.incubator.vector}): a register-blocked GEMM
 * ({@link VectorLinear}), fused attention with query rows in vector lanes ({@link VectorAttention}) or, for items of
 * a few rows, along the head dimension over keys and values read in place ({@link VectorDirectAttention}), and fused
 * interleaved attention on the same blocks ({@link VectorInterleavedAttention}), all over
 * {@link FloatVector#SPECIES_PREFERRED}. Loaded by name from {@link KernelSelection}, and only when the module is
 * present: no other class refers to these, so a JVM without the module never links them.
 */
final class VectorKernels implements JavaKernels {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;

    VectorKernels() {
    }

    @Override
    public String name() {
        return "vector";
    }

    @Override
    public String detail() {
        return "Vector API, " + SPECIES.vectorBitSize() + "-bit float vectors (" + SPECIES.length() + " lanes)";
    }

    @Override
    public int vectorBits() {
        return SPECIES.vectorBitSize();
    }

    @Override
    public Projection projection(PackedWeight w) {
        return VectorLinear.of(w);
    }

    @Override
    public long attention(AttentionArgs a) {
        // items of a few rows (a decoding step) read the keys where they are; the rest go through packed panels
        return VectorDirectAttention.supports(a) ? VectorDirectAttention.run(a) : VectorAttention.run(a);
    }

    @Override
    public long interleaved(AttentionArgs a, byte[] modality, int modalityStride, boolean block) {
        return VectorInterleavedAttention.run(a, modality, modalityStride, block);
    }
}
