package dev.mmca.cpu;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.PreparedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.bytedeco.javacpp.BytePointer;

/**
 * A SimpleMMCA model on the native CPU backend: the weights live packed in native memory (one
 * concatenated projection matrix per input, one output matrix for both text blocks), and a forward
 * is one native call. Concurrent forwards are safe (each call has its own native scratch); close
 * frees the packed weights, and a forward after close throws {@link IllegalStateException}.
 */
final class CpuPreparedModel implements PreparedModel {
    private final MmcaConfig config;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private MmcaCpuNative.Model model;  // null once closed

    private CpuPreparedModel(MmcaConfig config, MmcaCpuNative.Model model) {
        this.config = config;
        this.model = model;
    }

    static CpuPreparedModel create(MmcaConfig c, MmcaWeights w) {
        CpuRuntime.requireLoaded();
        List<NativeTensor> copies = new ArrayList<>(12);
        try (MmcaCpuNative.ModelDesc d = new MmcaCpuNative.ModelDesc()) {
            d.dim(c.dim()).heads(c.heads()).kv_heads(c.kvHeads()).dim_head(c.dimHead()).causal(c.causal() ? 1 : 0)
                    .qk_norm(c.qkNorm() ? 1 : 0)
                    .composition(c.composition() == Composition.SEED ? MmcaCpuNative.COMPOSITION_SEED
                            : MmcaCpuNative.COMPOSITION_CROSS)
                    .head_mapping(CpuBackend.mapping(c.headMapping()));
            MgqaWeights v = w.visualSelf();
            MgqaWeights t = w.textualSelf();
            MgqaWeights x = w.cross();
            d.visual_q(in(copies, v.toQ())).visual_k(in(copies, v.toK())).visual_v(in(copies, v.toV()))
                    .visual_out(in(copies, v.toOut()));
            d.textual_q(in(copies, t.toQ())).textual_k(in(copies, t.toK())).textual_v(in(copies, t.toV()))
                    .textual_out(in(copies, t.toOut()));
            d.cross_q(in(copies, x.toQ())).cross_k(in(copies, x.toK())).cross_v(in(copies, x.toV()))
                    .cross_out(in(copies, x.toOut()));
            MmcaCpuNative.Model m = MmcaCpuNative.mmca_cpu_model_create(d);
            return new CpuPreparedModel(c, m);
        } finally {
            for (NativeTensor n : copies) {
                n.close();
            }
        }
    }

    private static org.bytedeco.javacpp.FloatPointer in(List<NativeTensor> copies, FloatTensor t) {
        NativeTensor n = NativeTensor.input(t);
        copies.add(n);
        return n.pointer();
    }

    @Override
    public MmcaConfig config() {
        return config;
    }

    /** Bytes of packed weights held in native memory (0 once closed). */
    long nativeBytes() {
        lifecycle.readLock().lock();
        try {
            return model == null ? 0 : MmcaCpuNative.mmca_cpu_model_bytes(model);
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    @Override
    public void forward(MmcaInputs inputs, FloatTensor visualOut, FloatTensor textOut) {
        lifecycle.readLock().lock();
        try {
            if (model == null) {
                throw new IllegalStateException("cpu model: forward() called after close()");
            }
            checkShapes(inputs, visualOut, textOut);
            try (NativeTensor v = NativeTensor.input(inputs.visual());
                    NativeTensor t = NativeTensor.input(inputs.text());
                    BytePointer vm = NativeTensor.mask(inputs.visualMask());
                    BytePointer tm = NativeTensor.mask(inputs.textMask());
                    NativeTensor vo = NativeTensor.output(visualOut);
                    NativeTensor to = NativeTensor.output(textOut)) {
                MmcaCpuNative.mmca_cpu_model_forward(model, v.pointer(), t.pointer(), vm, tm, vo.pointer(),
                        to.pointer(), inputs.batch(), inputs.visualTokens(), inputs.textTokens());
                vo.finish();
                to.finish();
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    /**
     * Shape checks (cheap, no value scan) so that a caller bypassing the facade gets an exception rather
     * than native code reading or writing past a buffer.
     */
    private void checkShapes(MmcaInputs in, FloatTensor visualOut, FloatTensor textOut) {
        int dim = config.dim();
        FloatTensor v = in.visual();
        FloatTensor t = in.text();
        require("visual", v.rank() == 3 && v.dim(2) == dim && v.dim(0) > 0 && v.dim(1) > 0, "[batch, tokens, " + dim + "]",
                v);
        int b = v.dim(0);
        require("text", t.rank() == 3 && t.dim(0) == b && t.dim(1) > 0 && t.dim(2) == dim,
                "[" + b + ", tokens, " + dim + "]", t);
        if (config.composition() == Composition.SEED && t.dim(1) != v.dim(1)) {
            throw new IllegalArgumentException("text: composition SEED expects " + v.dim(1) + " tokens (as visual), got "
                    + java.util.Arrays.toString(t.shape()));
        }
        require("visualOut", java.util.Arrays.equals(visualOut.shape(), v.shape()), java.util.Arrays.toString(v.shape()),
                visualOut);
        require("textOut", java.util.Arrays.equals(textOut.shape(), t.shape()), java.util.Arrays.toString(t.shape()),
                textOut);
        checkMask("visualMask", in.visualMask(), b, v.dim(1));
        checkMask("textMask", in.textMask(), b, t.dim(1));
    }

    private static void require(String name, boolean ok, String expected, FloatTensor got) {
        if (!ok) {
            throw new IllegalArgumentException(name + ": expected shape " + expected + ", got "
                    + java.util.Arrays.toString(got.shape()));
        }
    }

    private static void checkMask(String name, dev.mmca.Mask m, int b, int n) {
        if (m != null && (m.batch() != b || m.length() != n)) {
            throw new IllegalArgumentException(name + ": expected shape [" + b + ", " + n + "], got [" + m.batch() + ", "
                    + m.length() + "]");
        }
    }

    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (model != null) {
                MmcaCpuNative.mmca_cpu_model_free(model);
                model = null;
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "CpuPreparedModel{" + config + (model == null ? ", closed" : "") + "}";
    }
}
