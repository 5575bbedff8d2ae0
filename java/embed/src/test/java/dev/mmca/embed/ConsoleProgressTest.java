package dev.mmca.embed;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {
    @Test
    void quietWinsAndForcedShowsTheBarWithoutATerminal() {
        assertFalse(ConsoleProgress.wanted(true, true));
        assertTrue(ConsoleProgress.wanted(true, false));
        // Test runs have no console attached, as in a pipe or a log file.
        assertFalse(ConsoleProgress.wanted(false, false));
    }

    @Test
    void theBarShowsRecordsTokensPerSecondAndFailures() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgress p = new ConsoleProgress(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        p.start(2, 10);
        p.advance(4, 80);
        Thread.sleep(300);
        p.advance(6, 120);
        p.failed(new ShardFailure("shard-1.safetensors", "broken"));
        p.finish(new EmbedReport(2, 1, 0, List.of(), 10, 200, 220, 1, 1, "java"));
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("10/10") && s.contains("tok/s") && s.contains("rec"), s);
        assertTrue(s.contains("failed: shard-1.safetensors: broken"), s);
    }
}
