package dev.mmca.backend.java;

import dev.mmca.plan.PackedWeight;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java backend's kernels on the Vector API ({@code jdk.incubator.vector}): a register-blocked GEMM
 * ({@link VectorLinear}) and fused attention with query rows in vector lanes ({@link VectorAttention}), both over
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
        return VectorAttention.run(a);
    }
}
