package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaInputs;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.PreparedModel;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

/**
 * A SimpleMMCA model on the GPU: the twelve weight matrices are uploaded once, packed as
 * {@link ForwardPlan} wants them, and every forward runs the plan on the device (cuBLAS for the
 * projections, libmmcacuda for attention). Forward calls are serialised on the model's own stream
 * and cuBLAS handle (thread-safe, not parallel). With {@link CudaPrecision#BF16} or
 * {@link CudaPrecision#FP16}, weights and every intermediate are stored in that type (GEMMs and
 * attention accumulate in fp32); host inputs and outputs stay fp32.
 */
final class CudaModel implements PreparedModel {
    private final MmcaConfig config;
    private final CudaPrecision precision;
    private final CudaDtype dtype;
    private final long elem;
    private final ForwardPlan plan;
    private final List<DeviceMemory> weights = new ArrayList<>();
    private final ForwardPlan.Buffers packed = new ForwardPlan.Buffers();
    private CUstream_st stream;
    private Cublas cublasHandle;
    private ForwardPlan.Ops ops;
    private Workspace workspace;
    private boolean poisonWorkspace;
    private boolean closed;

    CudaModel(MmcaConfig config, MmcaWeights w, CudaPrecision precision) {
        this.config = config;
        this.precision = precision;
        this.dtype = precision.dtype();
        this.elem = dtype.bytes();
        this.plan = new ForwardPlan(config, precision);
        try {
            packed.wqkvVisual = keep(uploadAs(ForwardPlan.stackRows(config, w.visualSelf())));
            packed.woVisual = keep(uploadAs(w.visualSelf().toOut()));
            packed.wqkvText = keep(uploadAs(ForwardPlan.stackRows(config, w.textualSelf())));
            packed.wqkvCross = keep(uploadAs(ForwardPlan.stackRows(config, w.cross())));
            packed.woTextCross = keep(uploadAs(ForwardPlan.sideBySide(config, w.textualSelf().toOut(),
                    w.cross().toOut())));
            CUstream_st s = new CUstream_st();
            CudaErrors.check(cudart.cudaStreamCreate(s), "cudaStreamCreate");
            stream = s;
            Cublas blas = new Cublas(stream, precision == CudaPrecision.TF32);
            cublasHandle = blas;
            ops = new ForwardPlan.Ops() {
                @Override
                public void linear(CudaDtype t, long x, int ldx, long wt, long y, int ldy, int rows, int in, int out) {
                    blas.linear(t, x, ldx, wt, y, ldy, rows, in, out);
                }

                @Override
                public void attention(long[] desc, int math, long st) {
                    CudaNative.mmca_cuda_attention(desc, desc.length, math, st);
                }

                @Override
                public void text(long[] selfDesc, long[] crossDesc, int math, long st) {
                    CudaNative.mmca_cuda_text(selfDesc, crossDesc, selfDesc.length, math, st);
                }

                @Override
                public void add(long out, long a, long b, long n, int t, long st) {
                    CudaNative.mmca_cuda_add(out, a, b, n, t, st);
                }
            };
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Keeps a weight allocation until close(); returns its address. */
    private long keep(DeviceMemory m) {
        weights.add(m);
        return m.address();
    }

    /** A device copy of {@code t} in the model's element type (converted on the device). */
    private DeviceMemory uploadAs(FloatTensor t) {
        DeviceMemory f32 = DeviceMemory.upload(t);
        if (dtype == CudaDtype.F32) {
            return f32;
        }
        try (f32) {
            DeviceMemory m = DeviceMemory.allocate(t.size() * elem);
            try {
                CudaNative.mmca_cuda_convert(m.address(), f32.address(), t.size(), dtype.code(), 0, 0L);
                CudaNative.mmca_cuda_synchronize(0L);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            return m;
        }
    }

    @Override
    public MmcaConfig config() {
        return config;
    }

    CudaPrecision precision() {
        return precision;
    }

    @Override
    public synchronized void forward(MmcaInputs in, FloatTensor visualOut, FloatTensor textOut) {
        requireOpen();
        int b = in.batch();
        int nv = in.visualTokens();
        int nt = in.textTokens();
        Workspace ws = workspace(b, nv, nt);
        if (poisonWorkspace) {
            ws.poison();
        }
        long vMask = upload(in.visualMask(), ws.vMask);
        long tMask = upload(in.textMask(), ws.tMask);
        long s = stream.address();
        if (dtype == CudaDtype.F32) {
            ws.xv.write(in.visual(), 0);
            ws.xt.write(in.text(), 0);
        } else {  // fp32 host data -> staging -> model type
            ws.stageV.write(in.visual(), 0);
            ws.stageT.write(in.text(), 0);
            CudaNative.mmca_cuda_convert(ws.xv.address(), ws.stageV.address(), visualOut.size(), dtype.code(), 0, s);
            CudaNative.mmca_cuda_convert(ws.xt.address(), ws.stageT.address(), textOut.size(), dtype.code(), 0, s);
        }
        plan.run(ws.buffers, ops, b, nv, nt, ws.xv.address(), ws.xt.address(), vMask, tMask, ws.vis.address(),
                ws.text.address(), s);
        if (dtype != CudaDtype.F32) {
            CudaNative.mmca_cuda_convert(ws.stageV.address(), ws.vis.address(), visualOut.size(), dtype.code(), 1, s);
            CudaNative.mmca_cuda_convert(ws.stageT.address(), ws.text.address(), textOut.size(), dtype.code(), 1, s);
        }
        CudaNative.mmca_cuda_synchronize(s);
        (dtype == CudaDtype.F32 ? ws.vis : ws.stageV).read(visualOut, 0);
        (dtype == CudaDtype.F32 ? ws.text : ws.stageT).read(textOut, 0);
    }

    /**
     * Forward on device tensors (the precision's element type, dense row-major): {@code visual [b, nv, dim]},
     * {@code text [b, nt, dim]}, byte masks {@code [b, nv]} / {@code [b, nt]} or 0, outputs
     * {@code visualOut [b, nv, dim]} and {@code textOut [b, nt, dim]}. Runs on {@code callerStream} and
     * returns once the outputs are written.
     */
    synchronized void forwardDevice(int b, int nv, int nt, long visual, long text, long visualMask, long textMask,
            long visualOut, long textOut, long callerStream) {
        requireOpen();
        Workspace ws = workspace(b, nv, nt);
        if (poisonWorkspace) {
            ws.poison();
        }
        cublasHandle.setStream(new CUstream_st(new DeviceAddress(callerStream)));
        try {
            plan.run(ws.buffers, ops, b, nv, nt, visual, text, visualMask, textMask, visualOut, textOut, callerStream);
            CudaNative.mmca_cuda_synchronize(callerStream);
        } finally {
            cublasHandle.setStream(stream);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("CUDA model: forward() called after close()");
        }
    }

    private static long upload(Mask mask, DeviceMemory target) {
        if (mask == null) {
            return 0;
        }
        target.writeBytes(mask.bytesView());
        return target.address();
    }

    /**
     * Tests: fill every intermediate buffer with NaN before each forward, so that an element a kernel
     * forgets to write shows up in the output instead of a stale or zero value.
     */
    synchronized void poisonWorkspaceForTesting(boolean on) {
        poisonWorkspace = on;
    }

    private Workspace workspace(int b, int nv, int nt) {
        if (workspace != null && !workspace.fits(b, nv, nt)) {
            workspace.close();
            workspace = null;
        }
        if (workspace == null) {
            workspace = new Workspace(b, nv, nt);
        }
        return workspace;
    }

    /** Device buffers of one input shape, kept between calls of the same shape. */
    private final class Workspace implements AutoCloseable {
        final int b;
        final int nv;
        final int nt;
        final List<DeviceMemory> all = new ArrayList<>();
        final ForwardPlan.Buffers buffers = new ForwardPlan.Buffers();
        final DeviceMemory xv;
        final DeviceMemory xt;
        final DeviceMemory vis;
        final DeviceMemory text;
        final DeviceMemory vMask;
        final DeviceMemory tMask;
        final DeviceMemory stageV;  // fp32 host-transfer buffers, 16-bit models only
        final DeviceMemory stageT;

        Workspace(int b, int nv, int nt) {
            this.b = b;
            this.nv = nv;
            this.nt = nt;
            long rv = (long) b * nv;
            long rt = (long) b * nt;
            int dim = config.dim();
            ForwardPlan.Sizes sizes = new ForwardPlan.Sizes(config, b, nv, nt);
            try {
                xv = add(elements(rv * dim));
                xt = add(elements(rt * dim));
                vis = add(elements(rv * dim));
                text = add(elements(rt * dim));
                buffers.wqkvVisual = packed.wqkvVisual;
                buffers.woVisual = packed.woVisual;
                buffers.wqkvText = packed.wqkvText;
                buffers.wqkvCross = packed.wqkvCross;
                buffers.woTextCross = packed.woTextCross;
                buffers.qkvV = add(elements(sizes.qkvV)).address();
                buffers.oV = add(elements(sizes.oV)).address();
                buffers.qkvT = add(elements(sizes.qkvT)).address();
                buffers.qkvC = add(elements(sizes.qkvC)).address();
                buffers.kvC = sizes.kvC > 0 ? add(elements(sizes.kvC)).address() : 0;
                buffers.u = sizes.u > 0 ? add(elements(sizes.u)).address() : 0;
                buffers.oT = add(elements(sizes.oT)).address();
                vMask = add(DeviceMemory.allocate(rv));
                tMask = add(DeviceMemory.allocate(rt));
                boolean staged = dtype != CudaDtype.F32;
                stageV = staged ? add(DeviceMemory.floats(rv * dim)) : null;
                stageT = staged ? add(DeviceMemory.floats(rt * dim)) : null;
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private DeviceMemory add(DeviceMemory m) {
            all.add(m);
            return m;
        }

        private DeviceMemory elements(long count) {
            return DeviceMemory.allocate(count * elem);
        }

        void poison() {
            for (DeviceMemory m : all) {
                m.fill(0xff);  // every byte 0xff: NaN in fp32, fp16 and bf16
            }
        }

        boolean fits(int b2, int nv2, int nt2) {
            return b == b2 && nv == nv2 && nt == nt2;
        }

        @Override
        public void close() {
            RuntimeException first = null;
            for (DeviceMemory m : all) {
                try {
                    m.close();
                } catch (RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
            all.clear();
            if (first != null) {
                throw first;
            }
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        try {
            if (stream != null) {
                CudaErrors.check(cudart.cudaStreamSynchronize(stream), "cudaStreamSynchronize");
            }
        } catch (RuntimeException e) {
            first = e;
        }
        List<AutoCloseable> toClose = new ArrayList<>();
        if (workspace != null) {
            toClose.add(workspace);
        }
        if (cublasHandle != null) {
            toClose.add(cublasHandle);
        }
        toClose.addAll(weights);
        for (AutoCloseable c : toClose) {
            try {
                c.close();
            } catch (Exception e) {
                RuntimeException r = e instanceof RuntimeException ? (RuntimeException) e : new RuntimeException(e);
                first = first == null ? r : first;
            }
        }
        workspace = null;
        cublasHandle = null;
        weights.clear();
        if (stream != null) {
            try {
                CudaErrors.check(cudart.cudaStreamDestroy(stream), "cudaStreamDestroy");
            } catch (RuntimeException e) {
                first = first == null ? e : first;
            }
            stream = null;
        }
        if (first != null) {
            throw first;
        }
    }
}
