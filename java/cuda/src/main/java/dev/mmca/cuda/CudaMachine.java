package dev.mmca.cuda;

import dev.mmca.FloatTensor;
import dev.mmca.NumericOverflowException;
import dev.mmca.plan.AddOp;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.InterleavedAttentionOp;
import dev.mmca.plan.LinearOp;
import dev.mmca.plan.Machine;
import dev.mmca.plan.Op;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.ScatterRowsOp;
import dev.mmca.plan.TextAttentionOp;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA backend's machine: packed weights uploaded once in the precision's element type, one device
 * workspace (grown on demand, kept between calls) holding the plan's arena and the device copies of the
 * caller's tensors, and every plan operation issued to one {@link CudaDevice} (cuBLAS projections, the
 * kernel library's attention and text launches) on one stream. Calls are serialised. With a 16-bit
 * precision, fp32 host tensors are converted on the device on the way in and out.
 */
final class CudaMachine extends Machine {
    /** cudaMalloc aligns to 256 bytes; so does every region of the workspace. */
    static final long ALIGNMENT = 256;

    private final CudaDevice device;
    private final CudaPrecision precision;
    private final CudaDtype dtype;
    private final List<Long> weights = new ArrayList<>();
    private final ParamsBlock params = new ParamsBlock();
    private long workspace;
    private long workspaceBytes;
    private boolean poison;

    CudaMachine(List<PackedWeight> packed, CudaPrecision precision, CudaDevice device) {
        this.device = device;
        this.precision = precision;
        this.dtype = precision.dtype();
        try {
            for (PackedWeight w : packed) {
                weights.add(upload(FloatTensor.of(w.data(), w.out(), w.in())));
            }
            device.synchronize();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** A device copy of an fp32 host tensor in the machine's element type. */
    private long upload(FloatTensor t) {
        if (dtype == CudaDtype.F32) {
            long a = device.allocate((long) t.size() * Float.BYTES);
            device.copyToDevice(a, t);
            return a;
        }
        long staging = device.allocate((long) t.size() * Float.BYTES);
        try {
            device.copyToDevice(staging, t);
            long a = device.allocate((long) t.size() * dtype.bytes());
            device.convert(a, staging, t.size(), dtype, false);
            device.synchronize();
            return a;
        } finally {
            device.free(staging);
        }
    }

    CudaPrecision precision() {
        return precision;
    }

    /** Tests: fill the workspace with NaN before each call, so an element no operation writes shows up. */
    synchronized void poisonWorkspaceForTesting(boolean on) {
        poison = on;
    }

    @Override
    public synchronized void run(Plan plan, PlanIo io) {
        Layout layout = new Layout(plan, true);
        prepareWorkspace(layout.bytes);
        Executor e = new Executor(layout, null, io);
        for (Buffer b : plan.buffers()) {
            if (b.type() == Buffer.Type.U8) {
                device.copyToDevice(e.address(b), io.bytes(b));
            } else if (b.type() == Buffer.Type.I32) {
                device.copyToDevice(e.address(b), io.ints(b));
            } else if (b.role() == Buffer.Role.INPUT) {
                FloatTensor t = io.tensor(b);
                if (dtype == CudaDtype.F32) {
                    device.copyToDevice(e.address(b), t);
                } else {
                    long staging = e.staging(b);
                    device.copyToDevice(staging, t);
                    device.convert(e.address(b), staging, t.size(), dtype, false);
                }
            }
        }
        plan.run(e);
        for (Buffer b : plan.buffers()) {
            if (b.role() == Buffer.Role.OUTPUT) {
                FloatTensor t = io.tensor(b);
                long from = e.address(b);
                if (dtype != CudaDtype.F32) {
                    from = e.staging(b);
                    device.convert(from, e.address(b), t.size(), dtype, true);
                }
                device.copyToHost(t, from);
                int bad = t.firstNonFinite();
                if (bad >= 0) {
                    // the kernels do not report an overflowed score themselves; it shows in the outputs
                    throw new NumericOverflowException("cuda: the result overflowed float32 at "
                            + b.describeRow(bad / b.width()) + ", column " + bad % b.width() + " of " + b.name()
                            + ", although every input is finite: their magnitude is too large for float32 (scale the"
                            + " inputs or the weights down)");
                }
            }
        }
    }

    /**
     * Runs {@code plan} on tensors already on this device ({@code addresses}: every input and output, in the
     * machine's element type; masks as device bytes), on the caller's {@code stream}; returns when done.
     */
    synchronized void runOnDevice(Plan plan, Map<Buffer, Long> addresses, long stream) {
        Layout layout = new Layout(plan, false);
        prepareWorkspace(layout.bytes);
        device.useStream(stream);
        try {
            plan.run(new Executor(layout, addresses, null));
            device.synchronize();
        } finally {
            device.useStream(0);
        }
    }

    private void prepareWorkspace(long bytes) {
        if (workspaceBytes < bytes) {
            if (workspace != 0) {
                device.free(workspace);
                workspace = 0;
                workspaceBytes = 0;
            }
            workspace = device.allocate(bytes);
            workspaceBytes = bytes;
        }
        if (poison) {
            device.fill(workspace, workspaceBytes, 0xff);
        }
    }

    static long aligned(long bytes) {
        return (bytes + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    /**
     * Byte offsets in the workspace: the arena, then (for host calls) a device copy of every input, output
     * and mask, then (16-bit types) an fp32 staging area per input and output.
     */
    private final class Layout {
        final Map<Buffer, Long> offsets = new IdentityHashMap<>();
        final Map<Buffer, Long> staging = new IdentityHashMap<>();
        final long bytes;

        Layout(Plan plan, boolean hostTensors) {
            long at = aligned(plan.arenaElements() * dtype.bytes());
            if (hostTensors) {
                for (Buffer b : plan.buffers()) {
                    if (!b.isScratch() && b.role() != Buffer.Role.STATE) {
                        offsets.put(b, at);
                        at = aligned(at + b.elements() * (b.type() == Buffer.Type.F32 ? dtype.bytes() : b.type().bytes()));
                    }
                }
                if (dtype != CudaDtype.F32) {
                    for (Buffer b : plan.buffers()) {
                        if (!b.isScratch() && b.role() != Buffer.Role.STATE && b.type() == Buffer.Type.F32) {
                            staging.put(b, at);
                            at = aligned(at + b.elements() * Float.BYTES);
                        }
                    }
                }
            }
            bytes = Math.max(at, ALIGNMENT);
        }
    }

    /** One call: device addresses of the plan's buffers, each operation one device call. */
    private final class Executor implements Op.Visitor, AttentionParamsLayout.Addresses {
        private final Layout layout;
        private final Map<Buffer, Long> external;
        private final PlanIo io;

        Executor(Layout layout, Map<Buffer, Long> external, PlanIo io) {
            this.layout = layout;
            this.external = external;
            this.io = io;
        }

        @Override
        public long address(Buffer b) {
            if (b.isScratch()) {
                return workspace + b.arenaOffset() * dtype.bytes();
            }
            if (b.role() == Buffer.Role.STATE) {
                if (io == null) {
                    throw new IllegalArgumentException(b.name() + ": state tensors are not available on device tensors");
                }
                return ((DeviceState) io.state(b)).address();
            }
            if (external != null) {
                Long a = external.get(b);
                if (a == null || a == 0) {
                    throw new IllegalArgumentException(b.name() + ": expected a device address, got none");
                }
                return a;
            }
            return workspace + layout.offsets.get(b);
        }

        long staging(Buffer b) {
            return workspace + layout.staging.get(b);
        }

        @Override
        public void linear(LinearOp op) {
            device.linear(dtype, address(op.x()), op.in(), weights.get(op.weight()), address(op.y()), op.out(), op.rows(),
                    op.in(), op.out());
        }

        @Override
        public void attention(AttentionOp op) {
            device.attention(params.put(0, op, this, dtype), precision.math());
        }

        @Override
        public void textAttention(TextAttentionOp op) {
            params.put(0, op.self(), this, dtype).put(1, op.cross(), this, dtype);
            device.text(params, precision.math());
        }

        @Override
        public void scatterRows(ScatterRowsOp op) {
            if (io == null) {
                throw new IllegalArgumentException(op.name() + ": needs host row indices");
            }
            // one copy per cached row: decoding steps append a few rows, a growing cache moves each row once
            int[] rows = io.ints(op.rows());
            long elem = dtype.bytes();
            long src = address(op.src()) + op.srcColumn() * elem;
            long dst = address(op.dst()) + op.dstColumn() * elem;
            for (int r = 0; r < rows.length; r++) {
                if (rows[r] >= 0) {
                    device.copyOnDevice(dst + (long) rows[r] * op.dst().width() * elem, src + (long) r * op.src().width() * elem,
                            op.width() * elem);
                }
            }
        }

        @Override
        public void interleavedAttention(InterleavedAttentionOp op) {
            device.interleaved(params.putInterleaved(op, this, dtype), precision.math());
        }

        @Override
        public void add(AddOp op) {
            device.add(address(op.out()), address(op.a()), address(op.b()), op.elements(), dtype);
        }
    }

    @Override
    public synchronized Memory allocate(String name, long elements) {
        return new DeviceState(name, elements);
    }

    /** State memory of the CUDA backend: one device allocation in the machine's element type. */
    final class DeviceState implements Memory {
        private final long elements;
        private long address;

        DeviceState(String name, long elements) {
            if (elements <= 0) {
                throw new IllegalArgumentException(name + ": expected a positive size, got " + elements);
            }
            this.elements = elements;
            this.address = device.allocate(elements * dtype.bytes());
        }

        long address() {
            if (address == 0) {
                throw new IllegalStateException("cuda state memory used after close()");
            }
            return address;
        }

        @Override
        public long elements() {
            return elements;
        }

        @Override
        public void close() {
            synchronized (CudaMachine.this) {
                if (address != 0) {
                    device.free(address);
                    address = 0;
                }
            }
        }
    }

    @Override
    public synchronized void close() {
        try (dev.mmca.backend.Closer all = new dev.mmca.backend.Closer()) {
            all.register(device);
            for (long w : weights) {
                all.register(() -> device.free(w));
            }
            weights.clear();
            if (workspace != 0) {
                long w = workspace;
                all.register(() -> device.free(w));
                workspace = 0;
                workspaceBytes = 0;
            }
        }
    }

    @Override
    public String toString() {
        return "CudaMachine{device " + device.ordinal() + ", " + precision + "}";
    }
}
