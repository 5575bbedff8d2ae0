package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.testing.RandomInputs;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BatchEmbedderTest {
    private static final int DIM = 32;

    private static SimpleMmca model() {
        return SimpleMmca.create(TestData.smallConfig(), MmcaWeights.random(TestData.smallConfig(), 3));
    }

    private static List<EmbedRecord> records(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<EmbedRecord> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int nv = 1 + r.nextInt(9);
            int nt = 1 + r.nextInt(6);
            list.add(new EmbedRecord(RandomInputs.normal(seed * 100 + 2 * i, nv, DIM).toArray(),
                    RandomInputs.normal(seed * 100 + 2 * i + 1, nt, DIM).toArray(), DIM));
        }
        return list;
    }

    @Test
    void eachRecordGetsWhatItGetsAloneInTheOriginalOrder() {
        List<EmbedRecord> records = records(37, 1);
        try (SimpleMmca model = model()) {
            List<BatchEmbedder.Embedding> out = new BatchEmbedder(model, 10, 60).embed(records);
            assertEquals(records.size(), out.size());
            for (int i = 0; i < records.size(); i++) {
                float[][] alone = TestData.alone(model, records.get(i));
                assertEquals(alone[0].length, out.get(i).visual().length, "record " + i);
                assertEquals(alone[1].length, out.get(i).text().length, "record " + i);
                TestData.assertClose(alone[0], out.get(i).visual(), 0, "record " + i + " visual");
                TestData.assertClose(alone[1], out.get(i).text(), 0, "record " + i + " text");
            }
        }
    }

    @Test
    void aRecordWithoutTextStillGetsItsVisualOutput() {
        float[] visual = RandomInputs.normal(9, 4, DIM).toArray();
        List<EmbedRecord> records = new ArrayList<>(records(5, 2));
        records.add(2, new EmbedRecord(visual, new float[0], DIM));
        try (SimpleMmca model = model()) {
            List<BatchEmbedder.Embedding> out = new BatchEmbedder(model, 8, 1000).embed(records);
            assertEquals(0, out.get(2).text().length);
            // Alone: one masked-out text token stands in for "no text".
            MmcaOutput alone = model.forward(FloatTensor.of(visual, 1, 4, DIM), FloatTensor.zeros(1, 1, DIM), null,
                    Mask.fromLengths(new int[] {0}, 1));
            TestData.assertClose(alone.visual().toArray(), out.get(2).visual(), 0, "visual of the text-less record");
        }
    }

    @Test
    void recordsOfTheWrongWidthAreRejectedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new EmbedRecord(new float[10], new float[8], 4));
        assertTrue(e.getMessage().startsWith("visual:"), e.getMessage());
    }
}
