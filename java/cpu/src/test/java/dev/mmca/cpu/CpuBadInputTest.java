package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.backend.AttentionProblem;
import dev.mmca.testing.RandomInputs;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/** The Java side rejects bad input before JNI; the native side checks again and throws, never crashes. */
class CpuBadInputTest {
    private static MmcaCpuNative.AttentionParams valid(FloatPointer buf) {
        MmcaCpuNative.AttentionParams p = new MmcaCpuNative.AttentionParams();
        p.q(buf).k(buf).v(buf).o(buf.getPointer(256));
        p.batch(1).heads(8).kv_heads(2).queries(2).keys(2).dim_head(4).scale(0.5f).dtype(MmcaCpuNative.DTYPE_F32);
        p.q_row_stride(32).o_row_stride(32).k_row_stride(8).v_row_stride(8);
        p.q_head_stride(4).k_head_stride(4).v_head_stride(4).o_head_stride(4);
        return p;
    }

    private static void assertNativeError(Runnable call, String expected) {
        RuntimeException e = assertThrows(RuntimeException.class, call::run);
        assertTrue(e.getMessage() != null && e.getMessage().contains(expected),
                "expected a message containing '" + expected + "', got: " + e.getMessage());
    }

    @Test
    void malformedParamsBlockRaisesNamedArgumentError() {
        CpuTesting.requireNative();
        try (FloatPointer buf = new FloatPointer(512); MmcaCpuNative.AttentionParams p = valid(buf)) {
            MmcaCpuNative.mmca_cpu_attention(p); // the well-formed block runs
            p.kv_heads(3);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(p),
                    "mmca_attention_params.kv_heads: expected a divisor of heads=8, got 3");
            p.kv_heads(2).q(null);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(p),
                    "mmca_attention_params.q: expected a non-null pointer, got NULL");
            p.q(buf).dtype(2);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(p), "mmca_attention_params.dtype: expected");
        }
        assertNativeError(() -> MmcaCpuNative.mmca_cpu_attention(null),
                "mmca_attention_params: expected a non-null pointer, got NULL");
    }

    @Test
    void malformedTextBlockAndModelCallsRaiseNamedArgumentErrors() {
        CpuTesting.requireNative();
        try (FloatPointer buf = new FloatPointer(512); MmcaCpuNative.TextParams tp = new MmcaCpuNative.TextParams();
                MmcaCpuNative.AttentionParams a = valid(buf)) {
            tp.self(a);
            tp.cross(a);
            MmcaCpuNative.mmca_cpu_text_attention(tp);
            tp.cross().queries(3);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_text_attention(tp),
                    "mmca_text_params.cross.queries: expected the same as self.queries=2, got 3");
        }
        assertNativeError(() -> MmcaCpuNative.mmca_cpu_model_forward(null, null, null, null, null, null, null, 1, 1, 1),
                "model: expected a live mmca_cpu_model, got NULL");
        try (MmcaCpuNative.ModelDesc d = new MmcaCpuNative.ModelDesc()) {
            d.dim(8).heads(4).kv_heads(3).dim_head(2);
            assertNativeError(() -> MmcaCpuNative.mmca_cpu_model_create(d),
                    "mmca_cpu_model_desc.kv_heads: expected a divisor of heads=4, got 3");
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
