package dev.mmca.backend.java;

import dev.mmca.FloatTensor;
import dev.mmca.plan.AddOp;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.InterleavedAttentionOp;
import dev.mmca.plan.LinearOp;
import dev.mmca.plan.Machine;
import dev.mmca.plan.Op;
import dev.mmca.plan.Overflow;
import dev.mmca.plan.PackedWeight;
import dev.mmca.plan.Plan;
import dev.mmca.plan.PlanIo;
import dev.mmca.plan.ScatterRowsOp;
import dev.mmca.plan.TextAttentionOp;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The Java backend's machine: weights as projections of its {@link JavaKernels} (scalar or Vector API), scratch
 * in a {@code float[]} arena reused across calls (one per concurrent call), heap inputs and outputs used in
 * place, direct ones copied through arrays.
 */
final class JavaMachine extends Machine {
    /** Java arrays index with int: no tensor of a plan may exceed this many elements. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private final JavaKernels kernels;
    private final JavaKernels.Projection[] weights;
    private final ConcurrentLinkedQueue<float[]> arenas = new ConcurrentLinkedQueue<>();

    /** A machine on this JVM's kernels ({@link KernelSelection}). */
    JavaMachine(List<PackedWeight> packed) {
        this(packed, checked(KernelSelection.current()));
    }

    private static JavaKernels checked(KernelSelection.Choice c) {
        if (!c.ok()) {
            throw new IllegalStateException("java backend: " + c.reason);
        }
        return c.kernels;
    }

    JavaMachine(List<PackedWeight> packed, JavaKernels kernels) {
        this.kernels = Objects.requireNonNull(kernels, "kernels");
        weights = new JavaKernels.Projection[packed.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = kernels.projection(packed.get(i));
        }
    }

    @Override
    public void run(Plan plan, PlanIo io) {
        for (Buffer b : plan.buffers()) {
            if (b.elements() > MAX_ELEMENTS) {
                throw new IllegalArgumentException(b.name() + ": " + b.elements() + " elements ([" + b.rows() + ", "
                        + b.width() + "]); the java backend holds at most " + MAX_ELEMENTS + " per tensor");
            }
        }
        if (plan.arenaElements() > MAX_ELEMENTS) {
            throw new IllegalArgumentException("intermediate tensors: " + plan.arenaElements() + " elements; the java"
                    + " backend holds at most " + MAX_ELEMENTS + " in one call");
        }
        float[] arena = takeArena(plan);
        try {
            Executor e = new Executor(io, arena);
            plan.run(e);
            e.copyBackOutputs();
        } finally {
            arenas.offer(arena);
        }
    }

    private float[] takeArena(Plan plan) {
        int elements = (int) plan.arenaElements();
        float[] a = arenas.poll();
        if (a != null && a.length >= elements) {
            return a;
        }
        try {
            return new float[elements];
        } catch (OutOfMemoryError e) {  // the one huge array failed: nothing else was allocated
            Buffer big = plan.largest();
            throw new dev.mmca.MmcaException(String.format(java.util.Locale.ROOT, "java backend: this call needs"
                    + " %.1f MB of heap for its intermediate tensors (the largest, %s [%d, %d]), more than the heap"
                    + " can give (-Xmx %d MB); use a smaller batch or a larger heap", elements * 4 / 1e6, big.name(),
                    big.rows(), big.width(), Runtime.getRuntime().maxMemory() >> 20), e);
        }
    }

    @Override
    public Memory allocate(String name, long elements) {
        if (elements > MAX_ELEMENTS) {
            throw new IllegalArgumentException(name + ": " + elements + " elements; the java backend holds at most "
                    + MAX_ELEMENTS + " per tensor");
        }
        return new HeapMemory(new float[(int) elements]);
    }

    /** State memory of the Java backend: an array. */
    private static final class HeapMemory implements Memory {
        final float[] data;

        HeapMemory(float[] data) {
            this.data = data;
        }

        @Override
        public long elements() {
            return data.length;
        }

        @Override
        public void close() {
            // heap memory: the collector frees it
        }
    }

    @Override
    public void close() {
        arenas.clear();
    }

    /** One call's memory and the operations over it. */
    private final class Executor implements Op.Visitor, AttentionArgs.Memory {
        private final PlanIo io;
        private final float[] arena;
        /** Arrays standing in for direct (non-heap) inputs and outputs. */
        private final Map<Buffer, float[]> staged = new IdentityHashMap<>();

        Executor(PlanIo io, float[] arena) {
            this.io = io;
            this.arena = arena;
        }

        @Override
        public float[] array(Buffer b) {
            if (b.isScratch()) {
                return arena;
            }
            if (b.role() == Buffer.Role.STATE) {
                return ((HeapMemory) io.state(b)).data;
            }
            FloatTensor t = io.tensor(b);
            if (t.hasArray()) {
                return t.array();
            }
            return staged.computeIfAbsent(b, x -> x.role() == Buffer.Role.INPUT ? t.toArray() : new float[t.size()]);
        }

        @Override
        public int base(Buffer b) {
            return b.isScratch() ? (int) b.arenaOffset() : 0;
        }

        @Override
        public byte[] mask(Buffer b) {
            return io.bytes(b);
        }

        @Override
        public int[] ints(Buffer b) {
            return io.ints(b);
        }

        @Override
        public void linear(LinearOp op) {
            long bad = weights[op.weight()].apply(array(op.x()), base(op.x()), (int) op.rows(), array(op.y()),
                    base(op.y()));
            if (bad >= 0) {
                throw Overflow.result(op, op.y(), bad);
            }
        }

        @Override
        public void attention(AttentionOp op) {
            long row = kernels.attention(AttentionArgs.of(op, this));
            if (row >= 0) {
                throw Overflow.scores(op, row);
            }
        }

        @Override
        public void textAttention(TextAttentionOp op) {
            attention(op.self());
            attention(op.cross());
        }

        @Override
        public void interleavedAttention(InterleavedAttentionOp op) {
            long row = kernels.interleaved(AttentionArgs.of(op.attention(), this), io.bytes(op.modality()),
                    (int) op.modalityBatchStride(), op.imageAttention() == dev.mmca.ImageAttention.BLOCK);
            if (row >= 0) {
                throw Overflow.scores(op.attention(), row);
            }
        }

        @Override
        public void add(AddOp op) {
            float[] a = array(op.a());
            float[] b = array(op.b());
            float[] out = array(op.out());
            int ai = base(op.a());
            int bi = base(op.b());
            int oi = base(op.out());
            int n = (int) op.elements();
            long bad = -1;
            for (int i = 0; i < n; i++) {
                float sum = a[ai + i] + b[bi + i];
                out[oi + i] = sum;
                if (bad < 0 && !(Math.abs(sum) <= Float.MAX_VALUE)) {
                    bad = i;
                }
            }
            if (bad >= 0) {
                throw Overflow.result(op, op.out(), bad);
            }
        }

        @Override
        public void scatterRows(ScatterRowsOp op) {
            float[] src = array(op.src());
            float[] dst = array(op.dst());
            int srcBase = base(op.src()) + op.srcColumn();
            int dstBase = base(op.dst()) + op.dstColumn();
            int sw = op.src().width();
            int dw = op.dst().width();
            int[] rows = io.ints(op.rows());
            for (int r = 0; r < rows.length; r++) {
                if (rows[r] >= 0) {
                    System.arraycopy(src, srcBase + r * sw, dst, dstBase + rows[r] * dw, op.width());
                }
            }
        }

        void copyBackOutputs() {
            for (Map.Entry<Buffer, float[]> e : staged.entrySet()) {
                if (e.getKey().role() == Buffer.Role.OUTPUT) {
                    io.tensor(e.getKey()).copyFrom(e.getValue(), 0);
                }
            }
        }
    }
}
