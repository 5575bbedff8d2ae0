package dev.mmca.cpu;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.backend.Availability;
import dev.mmca.backend.Backend;
import dev.mmca.backend.PreparedModel;
import dev.mmca.backend.Support;
import org.bytedeco.javacpp.BytePointer;

/**
 * The native CPU backend ({@code cpu}): fused float32 attention kernels in C++ (AVX-512, AVX2 or a
 * portable path, chosen at load time), projections through OpenBLAS sgemm, and the whole SimpleMMCA
 * forward in one native call over weights packed once. Threads: {@link CpuRuntime}.
 */
public final class CpuBackend extends Backend {

    /** Used by {@link java.util.ServiceLoader}. */
    public CpuBackend() {
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Availability availability() {
        try {
            if (Boolean.parseBoolean(System.getProperty(CpuRuntime.DISABLE_PROPERTY, "false"))) {
                return Availability.unavailable("disabled by -D" + CpuRuntime.DISABLE_PROPERTY + "=true");
            }
            Throwable failure = CpuRuntime.loadFailure();
            if (failure != null) {
                return Availability.unavailable("native CPU library not usable: " + CpuRuntime.describe(failure));
            }
            return Availability.available("native CPU kernels: " + CpuRuntime.isa() + ", " + CpuRuntime.threads()
                    + " threads, OpenBLAS sgemm");
        } catch (Throwable t) {
            return Availability.unavailable("native CPU library failed: " + CpuRuntime.describe(t));
        }
    }

    @Override
    public Support supports(MmcaConfig config) {
        return Support.yes();
    }

    @Override
    public Support supports(AttentionProblem problem) {
        return Support.yes();
    }

    @Override
    protected PreparedModel doPrepare(MmcaConfig config, MmcaWeights weights) {
        return CpuPreparedModel.create(config, weights);
    }

    @Override
    protected void doAttention(AttentionProblem p, FloatTensor q, FloatTensor k, FloatTensor v, FloatTensor out) {
        final long d = p.dimHead();
        final long hd = p.heads() * d;
        final long gd = p.kvHeads() * d;
        try (NativeTensor nq = NativeTensor.input(q);
                NativeTensor nk = NativeTensor.input(k);
                NativeTensor nv = NativeTensor.input(v);
                NativeTensor no = NativeTensor.output(out);
                BytePointer keyMask = NativeTensor.mask(p.keyMask());
                BytePointer queryMask = NativeTensor.mask(p.queryMask());
                MmcaCpuNative.AttentionParams a = new MmcaCpuNative.AttentionParams()) {
            a.q(nq.pointer()).k(nk.pointer()).v(nv.pointer()).o(no.pointer());
            a.q_batch_stride(p.queries() * hd).q_row_stride(hd).q_head_stride(d);
            a.k_batch_stride(p.keys() * gd).k_row_stride(gd).k_head_stride(d);
            a.v_batch_stride(p.keys() * gd).v_row_stride(gd).v_head_stride(d);
            a.o_batch_stride(p.queries() * hd).o_row_stride(hd).o_head_stride(d);
            a.key_mask(keyMask).key_mask_batch_stride(p.keys());
            a.query_mask(queryMask).query_mask_batch_stride(p.queries());
            a.batch(p.batch()).heads(p.heads()).kv_heads(p.kvHeads()).queries(p.queries()).keys(p.keys())
                    .dim_head(p.dimHead()).scale(p.scale()).causal(p.causal() ? 1 : 0).qk_norm(p.qkNorm() ? 1 : 0)
                    .head_mapping(mapping(p.headMapping())).dtype(MmcaCpuNative.DTYPE_F32);
            MmcaCpuNative.mmca_cpu_attention(a);
            no.finish();
        }
    }

    static int mapping(dev.mmca.HeadMapping m) {
        return m == dev.mmca.HeadMapping.GROUPED ? MmcaCpuNative.HEAD_MAPPING_GROUPED
                : MmcaCpuNative.HEAD_MAPPING_MODULO;
    }

    @Override
    public String toString() {
        return name();
    }
}
