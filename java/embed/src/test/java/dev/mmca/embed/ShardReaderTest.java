package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.io.MalformedFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ShardReaderTest {
    private static final Path FILE = Path.of("in/shard-7.safetensors");
    private static final int DIM = 3;

    /** Two records: visual lengths 2 and 1 of 2, text lengths 1 and 3 of 3; value = 100*record + 10*token + d. */
    private static Map<String, FloatTensor> shard() {
        float[] v = new float[2 * 2 * DIM];
        float[] t = new float[2 * 3 * DIM];
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < 2; i++) {
                for (int d = 0; d < DIM; d++) {
                    v[(r * 2 + i) * DIM + d] = 100 * r + 10 * i + d;
                }
            }
            for (int i = 0; i < 3; i++) {
                for (int d = 0; d < DIM; d++) {
                    t[(r * 3 + i) * DIM + d] = -(100 * r + 10 * i + d);
                }
            }
        }
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put(ShardFormat.VISUAL, FloatTensor.of(v, 2, 2, DIM));
        m.put(ShardFormat.TEXT, FloatTensor.of(t, 2, 3, DIM));
        m.put(ShardFormat.VISUAL_MASK, FloatTensor.of(new float[] {1, 1, 1, 0}, 2, 2));
        m.put(ShardFormat.TEXT_MASK, FloatTensor.of(new float[] {1, 0, 0, 1, 1, 1}, 2, 3));
        return m;
    }

    private static String failure(Map<String, FloatTensor> m, int dim) {
        return assertThrows(MalformedFileException.class, () -> ShardReader.fromTensors(FILE, m, dim)).getMessage();
    }

    @Test
    void splitsAShardIntoRecordsWithoutPadding() throws Exception {
        InputShard s = ShardReader.fromTensors(FILE, shard(), DIM);
        assertEquals(2, s.size());
        assertEquals(2, s.visualTokens);
        assertEquals(3, s.textTokens);
        assertEquals(2, s.records.get(0).visualLength());
        assertEquals(1, s.records.get(0).textLength());
        assertEquals(1, s.records.get(1).visualLength());
        assertEquals(3, s.records.get(1).textLength());
        assertArrayEquals(new float[] {100, 101, 102}, s.records.get(1).visual());
        assertArrayEquals(new float[] {0, -1, -2}, s.records.get(0).text());
    }

    @Test
    void missingMasksMeanEveryTokenIsReal() throws Exception {
        Map<String, FloatTensor> m = shard();
        m.remove(ShardFormat.VISUAL_MASK);
        m.remove(ShardFormat.TEXT_MASK);
        InputShard s = ShardReader.fromTensors(FILE, m, DIM);
        assertEquals(2, s.records.get(1).visualLength());
        assertEquals(3, s.records.get(0).textLength());
    }

    @Test
    void aMissingTensorIsNamedWithWhatTheFileHas() {
        Map<String, FloatTensor> m = shard();
        m.remove(ShardFormat.TEXT);
        String msg = failure(m, DIM);
        assertTrue(msg.contains("shard-7.safetensors") && msg.contains("'text'") && msg.contains("visual_mask"), msg);
    }

    @Test
    void aWrongTokenWidthNamesTheTensorAndTheModelDim() {
        String msg = failure(shard(), 4);
        assertTrue(msg.contains("'visual'") && msg.contains("expected last dimension 4") && msg.contains("[2, 2, 3]"),
                msg);
    }

    @Test
    void recordCountsMustAgree() {
        Map<String, FloatTensor> m = shard();
        m.put(ShardFormat.TEXT, FloatTensor.zeros(3, 3, DIM));
        String msg = failure(m, DIM);
        assertTrue(msg.contains("expected 2 records"), msg);
    }

    @Test
    void aMaskWithAGapIsRejectedNamingTheRecord() {
        Map<String, FloatTensor> m = shard();
        m.put(ShardFormat.TEXT_MASK, FloatTensor.of(new float[] {1, 0, 1, 1, 1, 1}, 2, 3));
        String msg = failure(m, DIM);
        assertTrue(msg.contains("'text_mask'") && msg.contains("record 0") && msg.contains("token 2"), msg);
    }

    @Test
    void aMaskValueOtherThanZeroOrOneIsRejected() {
        Map<String, FloatTensor> m = shard();
        m.put(ShardFormat.VISUAL_MASK, FloatTensor.of(new float[] {1, 1, 0.5f, 0}, 2, 2));
        String msg = failure(m, DIM);
        assertTrue(msg.contains("record 1") && msg.contains("0.5"), msg);
    }

    @Test
    void aMaskOfTheWrongShapeIsRejected() {
        Map<String, FloatTensor> m = shard();
        m.put(ShardFormat.VISUAL_MASK, FloatTensor.of(new float[] {1, 1, 1}, 1, 3));
        String msg = failure(m, DIM);
        assertTrue(msg.contains("expected shape [2, 2]") && msg.contains("[1, 3]"), msg);
    }

    @Test
    void aNonFiniteRealTokenIsRejectedButPaddingIsNotRead() throws Exception {
        Map<String, FloatTensor> m = shard();
        float[] v = m.get(ShardFormat.VISUAL).toArray();
        v[(1 * 2 + 1) * DIM] = Float.NaN; // record 1, token 1: padding
        m.put(ShardFormat.VISUAL, FloatTensor.of(v, 2, 2, DIM));
        assertEquals(2, ShardReader.fromTensors(FILE, m, DIM).size());
        v[(0 * 2 + 1) * DIM + 2] = Float.POSITIVE_INFINITY; // record 0, token 1: real
        m.put(ShardFormat.VISUAL, FloatTensor.of(v, 2, 2, DIM));
        String msg = failure(m, DIM);
        assertTrue(msg.contains("record 0, token 1") && msg.contains("Infinity"), msg);
    }

    @Test
    void aThreeDimensionalShapeIsRequired() {
        Map<String, FloatTensor> m = shard();
        m.put(ShardFormat.VISUAL, FloatTensor.zeros(4, DIM));
        String msg = failure(m, DIM);
        assertTrue(msg.contains("[records, tokens, 3]") && msg.contains(Arrays.toString(new int[] {4, 3})), msg);
    }
}
