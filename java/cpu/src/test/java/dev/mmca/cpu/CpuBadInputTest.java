package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.ParamsFormat;
import dev.mmca.plan.Plan;
import dev.mmca.testing.RandomInputs;
import java.nio.ByteBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.Test;

/**
 * The parameter block Java writes is the one the library reads, field by field; the Java side rejects bad
 * input before JNI; the native side checks again and throws, never crashes.
 */
class CpuBadInputTest {
    /** q, k, v and o of a small problem in one workspace: B 2, H 8, G 2, N 3, M 5, D 4, with both masks. */
    private static final class Block implements AutoCloseable {
        final NativeWorkspace ws = NativeWorkspace.allocate(64 * 1024);
        final Buffer q;
        final Buffer kv;
        final Buffer o;
        final Buffer keyMask;
        final Buffer queryMask;
        final AttentionOp op;
        final ByteBuffer params;

        Block(float scale, boolean causal, boolean qkNorm, HeadMapping mapping) {
            Plan.Builder p = Plan.builder();
            q = p.scratch("q", 2 * 3, 8 * 4 + 5);
            kv = p.scratch("kv", 2 * 5, 2 * 2 * 4);
            o = p.scratch("o", 2 * 3, 2 * 8 * 4);
            keyMask = p.maskInput("keyMask", 2, 5);
            queryMask = p.maskInput("queryMask", 2, 3);
            op = AttentionOp.builder("test").sizes(2, 8, 2, 3, 5, 4).flags(scale, causal, qkNorm, mapping)
                    .q(q, 5).k(kv, 0).v(kv, 8).o(o, 32).keyMask(keyMask).queryMask(queryMask).build();
            params = ws.view(0, 2 * AttentionParamsLayout.SIZE);
            ws.put(40960, new byte[] {1, 1, 0, 1, 1, 1, 0, 1, 1, 1});
            ws.put(41024, new byte[] {1, 1, 1, 1, 0, 1});
            AttentionParamsLayout.write(op, this::address, AttentionParamsLayout.DTYPE_F32, 4, params, 0);
        }

        long address(Buffer b) {
            if (b == keyMask) {
                return ws.address(40960);
            }
            if (b == queryMask) {
                return ws.address(41024);
            }
            return ws.address(1024 + b.arenaOffset() * 4);
        }

        long params() {
            return ws.address(0);
        }

        @Override
        public void close() {
            ws.close();
        }
    }

    private static void assertNativeError(Runnable call, String expected) {
        RuntimeException e = assertThrows(RuntimeException.class, call::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(expected),
                "expected a message containing '" + expected + "', got: " + e.getMessage());
    }

    private static String nativeFormat(long params) {
        try (BytePointer buf = new BytePointer(2048)) {
            int n = MmcaCpuNative.mmca_cpu_format_params(params, buf, 2048);
            assertTrue(n > 0 && n < 2048, "formatted length " + n);
            byte[] text = new byte[n];
            buf.get(text);
            return new String(text, java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    @Test
    void libraryReadsEveryFieldJavaWrites() {
        CpuTesting.requireNative();
        assertEquals(AttentionParamsLayout.SIZE, MmcaCpuNative.mmca_cpu_params_size());
        for (HeadMapping m : HeadMapping.values()) {
            for (boolean flag : new boolean[] {false, true}) {
                try (Block b = new Block(flag ? 10f : 0.35355338f, flag, !flag, m)) {
                    String expected = ParamsFormat.expected(b.op, b::address, AttentionParamsLayout.DTYPE_F32, 4);
                    assertEquals(expected, nativeFormat(b.params()));
                    MmcaCpuNative.mmca_cpu_attention(b.params());  // and the block is a valid problem
                }
            }
        }
    }

    @Test
    void malformedParamsBlockRaisesNamedArgumentError() {
        CpuTesting.requireNative();
        try (Block b = new Block(0.5f, false, false, HeadMapping.MODULO)) {
            MmcaCpuNative.mmca_cpu_attention(b.params());
            b.params.putInt(AttentionParamsLayout.KV_HEADS, 3);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(b.params()),
                    "mmca_attention_params.kv_heads: expected a divisor of heads=8, got 3");
            b.params.putInt(AttentionParamsLayout.KV_HEADS, 2).putLong(AttentionParamsLayout.Q, 0);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(b.params()),
                    "mmca_attention_params.q: expected a non-null pointer, got NULL");
            b.params.putLong(AttentionParamsLayout.Q, b.address(b.q)).putInt(AttentionParamsLayout.DTYPE, 2);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(b.params()), "mmca_attention_params.dtype: expected");
        }
        assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(0),
                "mmca_attention_params: expected a non-null pointer, got NULL");
    }

    @Test
    void malformedTextBlockAndOperationsRaiseNamedArgumentErrors() {
        CpuTesting.requireNative();
        try (Block b = new Block(0.5f, true, false, HeadMapping.GROUPED)) {
            AttentionParamsLayout.write(b.op, b::address, AttentionParamsLayout.DTYPE_F32, 4, b.params,
                    AttentionParamsLayout.SIZE);
            MmcaCpuNative.mmca_cpu_text_attention(b.params());
            b.params.putInt(AttentionParamsLayout.SIZE + AttentionParamsLayout.QUERIES, 4);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_text_attention(b.params()),
                    "mmca_text_params.cross.queries: expected the same as self.queries=3, got 4");
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_linear(null, b.address(b.q), 4, b.address(b.o), 4, 1),
                    "weights: expected live mmca_cpu_weights, got NULL");
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_add(0, b.address(b.q), b.address(b.q), 4),
                    "out: expected a non-null pointer, got NULL");
        }
        assertThrows(IllegalArgumentException.class, () -> CpuRuntime.setIsa("sse9"));
        assertThrows(IllegalArgumentException.class, () -> CpuRuntime.setThreads(0));
    }

    @Test
    void preparedModelUsedWithoutFacadeChecksShapes() {
        dev.mmca.MmcaConfig c = dev.mmca.MmcaConfig.builder().dim(16).heads(2).dimHead(8).build();
        try (dev.mmca.backend.PreparedModel m = new CpuBackend().prepare(c, dev.mmca.MmcaWeights.random(c, 1))) {
            dev.mmca.MmcaInputs in = new dev.mmca.MmcaInputs(RandomInputs.normal(1, 2, 5, 16),
                    RandomInputs.normal(2, 2, 3, 16), null, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> m.forward(in, FloatTensor.zeros(2, 4, 16), FloatTensor.zeros(2, 3, 16)));
            assertTrue(e.getMessage().startsWith("visualOut: expected shape [2, 5, 16]"), e.getMessage());
            dev.mmca.MmcaInputs wrongDim = new dev.mmca.MmcaInputs(RandomInputs.normal(1, 2, 5, 12),
                    RandomInputs.normal(2, 2, 3, 16), null, null);
            assertThrows(IllegalArgumentException.class,
                    () -> m.forward(wrongDim, FloatTensor.zeros(2, 5, 12), FloatTensor.zeros(2, 3, 16)));
        }
    }

    @Test
    void javaSideValidatesBeforeNativeCode() {
        AttentionProblem p = AttentionProblem.builder().batch(1).heads(4).kvHeads(2).queries(3).keys(5).dimHead(8)
                .build();
        FloatTensor q = RandomInputs.normal(1, 1, 3, 32);
        FloatTensor kv = RandomInputs.normal(2, 1, 5, 16);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CpuBackend().attention(p, q, RandomInputs.normal(3, 1, 4, 16), kv, FloatTensor.zeros(1, 3, 32)));
        assertTrue(e.getMessage().startsWith("k: expected shape [1, 5, 16]"), e.getMessage());
        FloatTensor bad = RandomInputs.normal(4, 1, 3, 32);
        bad.set(5, Float.NaN);
        assertThrows(IllegalArgumentException.class,
                () -> new CpuBackend().attention(p, bad, kv, kv, FloatTensor.zeros(1, 3, 32)));
    }
}
