package dev.mmca.workload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.HeadMapping;
import java.util.List;
import org.junit.jupiter.api.Test;

class WorkloadTest {
    @Test
    void w1FlopsCountEveryProjectionAndTheThreeAttentions() {
        Workload w1 = Workload.select(Workload.standard(), List.of("W1")).get(0);
        // Per block (N = M = 10, B = 32, dim 512, H*D = 512, G*D = 128):
        //   to_q, to_out 2*32*10*512*512 = 167,772,160 each; to_k, to_v 2*32*10*512*128 = 41,943,040 each.
        // Attention, 4*64 FLOPs per visible pair, 32*8 (batch, head) pairs of rows:
        //   visual and cross 100 pairs -> 6,553,600 each; causal text 55 pairs -> 3,604,480.
        double expected = 3 * (2 * 167_772_160.0 + 2 * 41_943_040.0) + 2 * 6_553_600.0 + 3_604_480.0;
        assertEquals(expected, w1.flops(), 0.5);
    }

    @Test
    void a1FlopsAreTheCausalHalfOfTheSquare() {
        Workload a1 = Workload.select(Workload.standard(), List.of("a1")).get(0);
        double pairs = 2048.0 * 2049 / 2;
        assertEquals(4.0 * 64 * 16 * pairs, a1.flops(), 0.5);
    }

    @Test
    void workloadsUseTheGroupedHeadMappingOfSdpa() {
        for (Workload w : Workload.standard()) {
            HeadMapping m = w.kind() == Workload.Kind.FORWARD ? w.config().headMapping() : w.problem().headMapping();
            assertEquals(HeadMapping.GROUPED, m, w.name());
        }
    }

    @Test
    void smallWorkloadsKeepTheStructureOfTheStandardOnes() {
        List<Workload> std = Workload.standard();
        List<Workload> small = Workload.small();
        assertEquals(std.size(), small.size());
        for (int i = 0; i < std.size(); i++) {
            Workload a = std.get(i);
            Workload b = small.get(i);
            assertEquals(a.name(), b.name());
            assertEquals(a.kind(), b.kind());
            assertEquals(a.heads(), b.heads());
            assertEquals(a.kvHeads(), b.kvHeads());
            assertEquals(a.dimHead(), b.dimHead());
            assertEquals(a.causal(), b.causal());
            assertTrue(b.flops() < a.flops() / 50, b.name() + " is small");
        }
    }

    @Test
    void unknownWorkloadNameIsRejectedWithTheKnownNames() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Workload.select(Workload.standard(), List.of("W9")));
        assertTrue(e.getMessage().contains("W9") && e.getMessage().contains("A3"), e.getMessage());
    }

    @Test
    void d1IsOneNameForBatchOneAndEightWithTheStepsBytesAndFlops() {
        List<Workload> d1 = Workload.select(Workload.decoding(), List.of("d1"));
        assertEquals(2, d1.size());
        assertEquals(1, d1.get(0).batch());
        assertEquals(8, d1.get(1).batch());
        Workload w = d1.get(0);
        assertEquals(Workload.Kind.DECODE, w.kind());
        assertEquals(HeadMapping.GROUPED, w.config().headMapping());
        assertTrue(w.config().textCausal());
        // weights of the text path: 1024 * (4 * 1024 + 2 * 256) floats; caches: (576 + 512) * 2 * 256 floats
        assertEquals(4L * (1024L * (4 * 1024 + 2 * 256) + (576L + 512) * 512), w.stepBytes());
        assertEquals(4L * (1024L * (4 * 1024 + 2 * 256) + 8 * (576L + 512) * 512), d1.get(1).stepBytes());
        // projections 2 * 1024 * (2 * 1024 + 2 * 256) + 2 * 2048 * 1024; attention 4 * 64 * 16 * (512 + 576)
        assertEquals(9_437_184.0 + 4_456_448.0, w.stepFlops(), 0.5);
        assertEquals(w.stepFlops(), w.flops(), 0.0);
        List<Workload> small = Workload.decodingSmall();
        assertEquals(2, small.size());
        for (Workload s : small) {
            assertEquals("D1", s.name());
            assertTrue(s.stepBytes() < w.stepBytes() / 5, "small");
        }
        assertThrows(IllegalStateException.class, w::problem);
    }
}
