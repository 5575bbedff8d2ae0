package dev.mmca.cpu;

import dev.mmca.FloatTensor;
import dev.mmca.backend.Closer;
import dev.mmca.plan.AddOp;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.InterleavedAttentionOp;
import dev.mmca.plan.InterleavedParamsLayout;
import dev.mmca.plan.LinearOp;
import dev.mmca.plan.Machine;
import dev.mmca.plan.Op;
import dev.mmca.plan.Overflow;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.ScatterRowsOp;
import dev.mmca.plan.TextAttentionOp;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The native CPU backend's machine: packed weights in native memory (one {@code mmca_cpu_weights} per plan
 * weight) and one native workspace per concurrent call, reused across calls, holding the scratch arena,
 * the parameter blocks and copies of heap tensors; direct tensors are read and written where they are.
 * Each plan operation is one native call.
 */
final class CpuMachine extends Machine {
    private final List<MmcaCpuNative.Weights> weights = new ArrayList<>();
    private final ConcurrentLinkedQueue<NativeWorkspace> idle = new ConcurrentLinkedQueue<>();

    CpuMachine(List<PackedWeight> packed) {
        CpuRuntime.requireLoaded();
        try {
            for (PackedWeight w : packed) {
                try (FloatPointer data = new FloatPointer(w.data())) {
                    weights.add(MmcaCpuNative.mmca_cpu_weights_create(data, w.out(), w.in()));
                }
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Bytes of native memory held: packed weights plus idle workspaces. */
    long nativeBytes() {
        long total = 0;
        for (MmcaCpuNative.Weights w : weights) {
            total += MmcaCpuNative.mmca_cpu_weights_bytes(w);
        }
        for (NativeWorkspace ws : idle) {
            total += ws.bytes();
        }
        return total;
    }

    @Override
    public void run(Plan plan, PlanIo io) {
        Layout layout = new Layout(plan, io);
        NativeWorkspace ws = take(plan, layout.bytes);
        try {
            new Executor(io, layout, ws).run(plan);
        } finally {
            idle.offer(ws);
        }
    }

    /**
     * Refuses, before allocating, a call whose workspace exceeds the memory the machine has available: Linux
     * would grant the allocation and kill the process when the pages are touched.
     */
    static void requireMemory(Plan plan, long bytes) {
        long available = MemoryInfo.availableBytes();
        if (available > 0 && bytes > available) {
            Buffer big = plan.largest();
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "cpu backend: this call needs %.1f GB of native memory for its tensors (the largest, %s [%d, %d],"
                            + " is %.1f GB), more than the %.1f GB this machine has available; use a smaller batch",
                    bytes / 1e9, big.name(), big.rows(), big.width(), big.elements() * 4 / 1e9, available / 1e9));
        }
    }

    /**
     * An idle workspace of at least {@code bytes}, or a new one. Only a new one is checked against the memory
     * available (reading /proc/meminfo costs more than a small decoding step's kernels).
     */
    private NativeWorkspace take(Plan plan, long bytes) {
        NativeWorkspace ws = idle.poll();
        if (ws != null && ws.bytes() >= bytes) {
            return ws;
        }
        try {
            requireMemory(plan, bytes);
        } catch (RuntimeException e) {
            if (ws != null) {
                idle.offer(ws);  // still good for smaller calls
            }
            throw e;
        }
        if (ws != null) {
            ws.close();
        }
        return NativeWorkspace.allocate(bytes);
    }

    @Override
    public Memory allocate(String name, long elements) {
        return new NativeState(name, elements);
    }

    /** State memory of the CPU backend: one native block. */
    static final class NativeState implements Memory {
        private final long elements;
        private NativeWorkspace block;

        NativeState(String name, long elements) {
            if (elements <= 0) {
                throw new IllegalArgumentException(name + ": expected a positive size, got " + elements);
            }
            this.elements = elements;
            this.block = NativeWorkspace.allocate(elements * Float.BYTES);
        }

        long address() {
            if (block == null) {
                throw new IllegalStateException("cpu state memory used after close()");
            }
            return block.address(0);
        }

        @Override
        public long elements() {
            return elements;
        }

        @Override
        public void close() {
            if (block != null) {
                block.close();
                block = null;
            }
        }
    }

    @Override
    public void close() {
        try (Closer all = new Closer()) {
            for (MmcaCpuNative.Weights w : weights) {
                all.register(() -> MmcaCpuNative.mmca_cpu_weights_free(w));
            }
            weights.clear();
            for (NativeWorkspace ws = idle.poll(); ws != null; ws = idle.poll()) {
                all.register(ws);
            }
        }
    }

    /**
     * Byte offsets in the workspace: parameter blocks first, then the arena, then a copy of every heap tensor
     * and every mask.
     */
    private static final class Layout {
        static final long PARAMS = 0;
        final long arena;
        final Map<Buffer, Long> staged = new IdentityHashMap<>();
        final long bytes;

        Layout(Plan plan, PlanIo io) {
            arena = NativeWorkspace.aligned(2L * AttentionParamsLayout.SIZE);
            long at = NativeWorkspace.aligned(arena + plan.arenaElements() * Float.BYTES);
            for (Buffer b : plan.buffers()) {
                if (b.isScratch() || b.role() == Buffer.Role.STATE) {
                    continue;
                }
                boolean copy = b.type() != Buffer.Type.F32 || !io.tensor(b).isDirect();
                if (copy) {
                    staged.put(b, at);
                    at = NativeWorkspace.aligned(at + b.elements() * b.type().bytes());
                }
            }
            bytes = at;
        }
    }

    /** One call: addresses of the plan's buffers, and each operation as one native call. */
    private final class Executor implements Op.Visitor, AttentionParamsLayout.Addresses {
        private final PlanIo io;
        private final Layout layout;
        private final NativeWorkspace ws;
        private final ByteBuffer params;
        private final Map<Buffer, Long> direct = new IdentityHashMap<>();

        Executor(PlanIo io, Layout layout, NativeWorkspace ws) {
            this.io = io;
            this.layout = layout;
            this.ws = ws;
            this.params = ws.view(Layout.PARAMS, 2 * AttentionParamsLayout.SIZE);
        }

        void run(Plan plan) {
            for (Map.Entry<Buffer, Long> e : layout.staged.entrySet()) {
                Buffer b = e.getKey();
                if (b.type() == Buffer.Type.U8) {
                    ws.put(e.getValue(), io.bytes(b));
                } else if (b.type() == Buffer.Type.I32) {
                    ws.put(e.getValue(), io.ints(b));
                } else if (b.role() == Buffer.Role.INPUT) {
                    FloatTensor t = io.tensor(b);
                    ws.put(e.getValue(), t.array(), t.size());
                }
            }
            plan.run(this);
            for (Map.Entry<Buffer, Long> e : layout.staged.entrySet()) {
                Buffer b = e.getKey();
                if (b.role() == Buffer.Role.OUTPUT) {
                    FloatTensor t = io.tensor(b);
                    ws.get(e.getValue(), t.array(), t.size());
                }
            }
        }

        @Override
        public long address(Buffer b) {
            if (b.isScratch()) {
                return ws.address(layout.arena + b.arenaOffset() * Float.BYTES);
            }
            if (b.role() == Buffer.Role.STATE) {
                return ((NativeState) io.state(b)).address();
            }
            Long staged = layout.staged.get(b);
            if (staged != null) {
                return ws.address(staged);
            }
            return direct.computeIfAbsent(b, x -> new Pointer(io.tensor(x).buffer()).address());
        }

        @Override
        public void linear(LinearOp op) {
            long bad = MmcaCpuNative.mmca_cpu_linear(weights.get(op.weight()), address(op.x()), op.in(),
                    address(op.y()), op.out(), op.rows());
            if (bad >= 0) {
                throw Overflow.result(op, op.y(), bad);
            }
        }

        @Override
        public void attention(AttentionOp op) {
            write(op, 0);
            long row = MmcaCpuNative.mmca_cpu_attention(ws.address(Layout.PARAMS));
            if (row >= 0) {
                throw Overflow.scores(op, row);
            }
        }

        @Override
        public void textAttention(TextAttentionOp op) {
            write(op.self(), 0);
            write(op.cross(), AttentionParamsLayout.SIZE);
            long row = MmcaCpuNative.mmca_cpu_text_attention(ws.address(Layout.PARAMS));
            if (row >= 0) {
                throw Overflow.text(op, row);
            }
        }

        @Override
        public void interleavedAttention(InterleavedAttentionOp op) {
            InterleavedParamsLayout.write(op, this, AttentionParamsLayout.DTYPE_F32, Float.BYTES, params, 0);
            long row = MmcaCpuNative.mmca_cpu_interleaved_attention(ws.address(Layout.PARAMS));
            if (row >= 0) {
                throw Overflow.scores(op.attention(), row);
            }
        }

        @Override
        public void add(AddOp op) {
            long bad = MmcaCpuNative.mmca_cpu_add(address(op.out()), address(op.a()), address(op.b()), op.elements());
            if (bad >= 0) {
                throw Overflow.result(op, op.out(), bad);
            }
        }

        @Override
        public void scatterRows(ScatterRowsOp op) {
            MmcaCpuNative.mmca_cpu_scatter_rows(address(op.src()) + (long) op.srcColumn() * Float.BYTES, op.src().width(),
                    address(op.dst()) + (long) op.dstColumn() * Float.BYTES, op.dst().width(), op.width(),
                    address(op.rows()), op.rows().elements());
        }

        private void write(AttentionOp op, int position) {
            AttentionParamsLayout.write(op, this, AttentionParamsLayout.DTYPE_F32, Float.BYTES, params, position);
        }
    }

    @Override
    public String toString() {
        return "CpuMachine{" + weights.size() + " weights}";
    }
}
