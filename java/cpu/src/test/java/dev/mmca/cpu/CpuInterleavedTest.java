package dev.mmca.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.ImageAttention;
import dev.mmca.NumericOverflowException;
import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.Buffer;
import dev.mmca.plan.InterleavedAttentionOp;
import dev.mmca.plan.InterleavedParamsLayout;
import dev.mmca.plan.ParamsFormat;
import dev.mmca.plan.Plan;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.InterleavedChecks;
import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Interleaved attention on the native CPU backend (SPEC "Interleaved MMCA"): the model, the attention call and
 * decoding against the float64 oracle, the parameter block field by field, and native refusals as exceptions.
 */
class CpuInterleavedTest {
    private final CpuBackend cpu = new CpuBackend();

    @BeforeAll
    static void needsNative() {
        CpuTesting.requireNative();
    }

    static Stream<InterleavedCases.Case> cases() {
        return InterleavedCases.sweep(30).stream();
    }

    static Stream<InterleavedCases.Case> decodingCases() {
        return InterleavedChecks.decodingCases().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesTheOracle(InterleavedCases.Case c) {
        InterleavedChecks.forwardMatchesTheOracle(cpu, c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void attentionCallMatchesTheOracle(InterleavedCases.Case c) {
        InterleavedChecks.attentionCallMatchesTheOracle(cpu, c);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("decodingCases")
    void decodingEqualsTheForward(InterleavedCases.Case c) {
        InterleavedChecks.decodingEqualsTheForward(cpu, c);
    }

    @Test
    void everyKernelPathMatchesTheOracle() {
        CpuTesting.onEveryIsa(() -> {
            for (InterleavedCases.Case c : InterleavedCases.sweep(0)) {
                if (c.name().startsWith("tiles-crossing") || c.name().startsWith("padding-inside")) {
                    InterleavedChecks.forwardMatchesTheOracle(cpu, c);
                }
            }
        });
    }

    @Test
    void directTensorsGiveTheSameRows() {
        InterleavedChecks.directTensorsGiveTheSameRows(cpu);
    }

    @Test
    void sessionRulesAndRollback() {
        InterleavedChecks.sessionRulesAndRollback(cpu);
    }

    @Test
    void badInputsAreRefused() {
        InterleavedChecks.badInputsAreRefused(cpu);
    }

    @Test
    void aGroupWhoseEveryScoreIsMinusInfinityIsAnErrorOnEveryKernelPath() {
        CpuTesting.onEveryIsa(() -> {
            InterleavedChecks.aGroupWhoseScoresOverflowDownwardsIsRefused(cpu::attention, false);
            InterleavedChecks.minusInfiniteScoresBesideFiniteOnesStillCompute(cpu::attention);
        });
    }

    @Test
    void overflowIsAnError() {
        NumericOverflowException e = InterleavedChecks.overflowIsAnError(cpu);
        assertTrue(e.getMessage().startsWith("attention: the attention scores overflowed float32 at batch element 0,"
                + " query 0"), e.getMessage());
    }

    /** An interleaved problem of B 2, H 4, G 2, N 5, D 4 in one workspace, with its modality. */
    private static final class Block implements AutoCloseable {
        final NativeWorkspace ws = NativeWorkspace.allocate(64 * 1024);
        final Buffer qkv;
        final Buffer o;
        final Buffer modality;
        final InterleavedAttentionOp op;
        final ByteBuffer params;

        Block(ImageAttention rule, byte[] modalityBytes) {
            Plan.Builder p = Plan.builder();
            qkv = p.scratch("qkv", 2 * 5, 4 * 4 + 2 * 2 * 4);
            o = p.scratch("o", 2 * 5, 4 * 4);
            modality = p.modalityInput("modality", 2, 5);
            AttentionOp a = AttentionOp.builder("test").sizes(2, 4, 2, 5, 5, 4)
                    .flags(0.5f, true, rule == ImageAttention.BLOCK, dev.mmca.HeadMapping.GROUPED)
                    .q(qkv, 0).k(qkv, 16).v(qkv, 24).o(o, 0).build();
            op = new InterleavedAttentionOp(a, modality, rule);
            params = ws.view(0, InterleavedParamsLayout.SIZE);
            ws.put(40960, modalityBytes);
            ws.put(1024, new float[8192], 8192);
            InterleavedParamsLayout.write(op, this::address, AttentionParamsLayout.DTYPE_F32, 4, params, 0);
        }

        long address(Buffer b) {
            return b == modality ? ws.address(40960) : ws.address(1024 + b.arenaOffset() * 4);
        }

        long params() {
            return ws.address(0);
        }

        @Override
        public void close() {
            ws.close();
        }
    }

    @Test
    void libraryReadsEveryFieldJavaWrites() {
        assertEquals(InterleavedParamsLayout.SIZE, MmcaCpuNative.mmca_cpu_interleaved_params_size());
        byte[] m = {1, 2, 2, 1, 0, 2, 2, 0, 1, 1};
        for (ImageAttention rule : ImageAttention.values()) {
            try (Block b = new Block(rule, m); BytePointer buf = new BytePointer(2048)) {
                int n = MmcaCpuNative.mmca_cpu_format_interleaved_params(b.params(), buf, 2048);
                assertTrue(n > 0 && n < 2048, "formatted length " + n);
                byte[] text = new byte[n];
                buf.get(text);
                assertEquals(ParamsFormat.expected(b.op, b::address, AttentionParamsLayout.DTYPE_F32, 4),
                        new String(text, java.nio.charset.StandardCharsets.US_ASCII));
                assertEquals(-1, MmcaCpuNative.mmca_cpu_interleaved_attention(b.params()), "a valid problem");
            }
        }
    }

    @Test
    void nativeRefusalsArriveAsExceptions() {
        try (Block b = new Block(ImageAttention.SELF, new byte[] {1, 2, 2, 1, 0, 2, 2, 9, 1, 1})) {
            RuntimeException e = assertThrows(RuntimeException.class,
                    () -> MmcaCpuNative.mmca_cpu_interleaved_attention(b.params()));
            assertTrue(e.getMessage().contains("mmca_interleaved_params.modality: expected 0 (padding), 1 (text) or 2"
                    + " (image), got 9 at [1, 2]"), e.getMessage());
            b.params.putInt(InterleavedParamsLayout.IMAGE_RULE, 7);
            e = assertThrows(RuntimeException.class, () -> MmcaCpuNative.mmca_cpu_interleaved_attention(b.params()));
            assertTrue(e.getMessage().contains("mmca_interleaved_params.image_rule: expected"), e.getMessage());
            b.params.putInt(AttentionParamsLayout.CAUSAL, 0);
            e = assertThrows(RuntimeException.class, () -> MmcaCpuNative.mmca_cpu_interleaved_attention(b.params()));
            assertTrue(e.getMessage().contains("mmca_interleaved_params.attention.causal: expected 1"), e.getMessage());
        }
    }
}
