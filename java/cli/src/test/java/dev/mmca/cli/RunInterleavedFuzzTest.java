package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.Modality;
import dev.mmca.backend.Backends;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.testing.InterleavedCases;
import dev.mmca.testing.RandomInputs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated weights, token and modality files through {@code mmca run --composition interleaved}, in-process, with
 * the mutations of {@link RunFuzzTest}: every case either succeeds, with a complete and finite output of the
 * tokens' shape, or fails with exit code 1 and one error line that names the option and its path; never another
 * exit code, a stack trace or a hang. A modality value other than 0, 1 or 2 (the data-area mutations of the
 * {@code <i8} file make many) must be one of those errors. {@code -Dmmca.fuzz.cli.cases=N} runs more cases
 * (default 150 here), {@code -Dmmca.fuzz.seed=S} others.
 */
class RunInterleavedFuzzTest {
    private static final int CASES = Integer.getInteger("mmca.fuzz.cli.cases", 150);
    private static final long SEED = Long.getLong("mmca.fuzz.seed", 0x5eed_c12L);
    private static final Pattern ERROR = Pattern.compile("^mmca run: error: (--[a-z-]+): (.*)$");

    @TempDir
    Path tmp;

    @Test
    void mutatedInputsGiveAnOutputOrOneErrorLineNamingTheOptionAndThePath() throws Exception {
        MmcaConfig config = InterleavedCases.config(8, 2, 1, 4, HeadMapping.MODULO, false, ImageAttention.BLOCK);
        Path weights = tmp.resolve("w.safetensors");
        ModelFiles.saveInterleaved(weights, config, MgqaWeights.random(config, 1));
        Path tokens = tmp.resolve("x.npy");
        Npy.writeFloats(tokens, RandomInputs.normal(2, 2, 6, 8));
        Path modality = tmp.resolve("m.npy");
        RunInterleavedTest.writeInt64(modality, Modality.parse("ttiit.", "iitti.").bytesView(), 2, 6);
        List<RunFuzzTest.Seed> seeds = new ArrayList<>();
        for (Object[] s : new Object[][] {{"--weights", weights, true}, {"--tokens", tokens, false},
            {"--modality", modality, false}}) {
            seeds.add(new RunFuzzTest.Seed((String) s[0], (Path) s[1], Files.readAllBytes((Path) s[1]),
                    (Boolean) s[2]));
        }
        Map<String, Path> byOption = Map.of("--weights", weights, "--tokens", tokens, "--modality", modality);
        Path out = tmp.resolve("o.npy");
        String[] args = {"run", "--backend", "java", "--weights", weights.toString(), "--tokens", tokens.toString(),
            "--modality", modality.toString(), "--out", out.toString()};
        Backends.select("java", config); // its one log line goes to the real stderr, not into a case's capture
        assertEquals(0, CommandTestSupport.run(args).exitCode, "the unmutated files run");

        int[] outcomes = new int[2];
        SplittableRandom random = new SplittableRandom(SEED);
        assertTimeoutPreemptively(Duration.ofSeconds(Math.max(120, CASES / 2)), () -> {
            for (int i = 0; i < CASES; i++) {
                RunFuzzTest.Seed victim = seeds.get(random.nextInt(seeds.size()));
                byte[] mutated = RunFuzzTest.mutate(victim, random);
                for (RunFuzzTest.Seed s : seeds) {
                    Files.write(s.path(), s == victim ? mutated : s.bytes());
                }
                Files.deleteIfExists(out);
                long start = System.nanoTime();
                CommandTestSupport.Result r = CommandTestSupport.run(args);
                long ms = (System.nanoTime() - start) / 1_000_000;
                try {
                    outcomes[check(r, ms, byOption, tokens, modality, out)]++;
                } catch (AssertionError e) {
                    Path kept = tmp.resolve("case-" + i + "-" + victim.path().getFileName());
                    Files.write(kept, mutated);
                    throw new AssertionError("case " + i + " (seed " + SEED + ", " + victim.option() + " mutated; the"
                            + " input is kept at " + kept + "): " + e.getMessage(), e);
                }
            }
        });
        assertEquals(CASES, outcomes[0] + outcomes[1]);
        assertTrue(outcomes[0] >= CASES / 20, "some mutations still run (e.g. of data bytes): " + outcomes[0]);
        assertTrue(outcomes[1] >= CASES / 2, "most mutations are errors: " + outcomes[1]);
    }

    /** Checks one case's outcome: 0 when it ran, 1 when it failed as it should. */
    private static int check(CommandTestSupport.Result r, long ms, Map<String, Path> byOption, Path tokens,
            Path modality, Path out) throws Exception {
        if (ms > 10_000) {
            fail("took " + ms + " ms");
        }
        for (String line : r.err.lines().toList()) {
            if (!line.startsWith("mmca run: ")) {
                fail("a line not in the command's format: '" + line + "' in\n" + r);
            }
        }
        if (r.exitCode == 0) {
            assertTrue(r.err.lines().noneMatch(l -> l.startsWith("mmca run: error:")), r.toString());
            // it ran, so the inputs as read were valid: the modality holds 0, 1 and 2 only, and the output has
            // the tokens' shape and finite values (an overflow is an error instead)
            Modality m = Npy.readIntegers(modality).toModality();
            FloatTensor x = Npy.read(tokens).toFloatTensor();
            FloatTensor o = Npy.read(out).toFloatTensor();
            assertEquals(java.util.Arrays.toString(x.shape()), java.util.Arrays.toString(o.shape()), "output shape");
            assertEquals(m.batch() + "x" + m.length(), x.shape()[0] + "x" + x.shape()[1], "modality shape");
            assertTrue(o.firstNonFinite() < 0, "output finite");
            return 0;
        }
        if (r.exitCode != 1) {
            fail("exit code " + r.exitCode + "\n" + r);
        }
        List<String> errors = r.err.lines().filter(l -> l.startsWith("mmca run: error:")).toList();
        assertEquals(1, errors.size(), r.toString());
        Matcher m = ERROR.matcher(errors.get(0));
        assertTrue(m.matches(), "expected 'mmca run: error: --OPTION: ...': " + errors.get(0));
        Path path = byOption.get(m.group(1));
        assertTrue(path != null, "an error naming an option without a file: " + errors.get(0));
        assertTrue(m.group(2).startsWith(path + ": "), "expected the path of " + m.group(1) + " next: "
                + errors.get(0));
        assertTrue(m.group(2).length() > path.toString().length() + 10, "what went wrong: " + errors.get(0));
        assertTrue(!Files.exists(out), "an output after an error");
        return 1;
    }
}
