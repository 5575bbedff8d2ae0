package dev.mmca.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.backend.Backends;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated weights and token files through {@code mmca run}, in-process: every case either succeeds, with both
 * outputs written as complete {@code .npy} files, or fails with exit code 1 and one error line in the command's
 * format that names the option and its path; never another exit code, a stack trace, a hang or an
 * {@link OutOfMemoryError}. {@code -Dmmca.fuzz.cli.cases=N} runs more cases (default 300),
 * {@code -Dmmca.fuzz.seed=S} others.
 */
class RunFuzzTest {
    private static final int CASES = Integer.getInteger("mmca.fuzz.cli.cases", 300);
    private static final long SEED = Long.getLong("mmca.fuzz.seed", 0x5eed_c11L);
    private static final Pattern ERROR = Pattern.compile("^mmca run: error: (--[a-z-]+): (.*)$");
    private static final String[] NUMBERS = {"0", "1", "2", "3", "7", "8", "16", "-1", "65536", "2147483647",
        "2147483648", "4294967296", "9223372036854775807", "1e9", "00"};
    private static final String[] TOKENS = {"<f4", "<f8", "|b1", "|u1", ">f4", "<i8", "F32", "F16", "BF16", "F64",
        "I64", "descr", "shape", "fortran_order", "True", "False", "dtype", "data_offsets", "heads", "kv_heads",
        "dim_head", "causal", "composition", "seed", "cross", "grouped", "qk_norm", "(", ")", "[", "]", ",", "{", "}",
        ":", "'", "\""};
    private static final float[] VALUES = {Float.NaN, Float.POSITIVE_INFINITY, 3e38f, -3e38f, 1e30f, 1e-45f, -0f, 0f};

    @TempDir
    Path tmp;

    /** One file argument of the run and the bytes of its valid version. */
    record Seed(String option, Path path, byte[] bytes, boolean safetensors) {
    }

    @Test
    void mutatedInputsGiveAnOutputOrOneErrorLineNamingTheOptionAndThePath() throws Exception {
        MmcaConfig config = MmcaConfig.builder().dim(8).heads(2).kvHeads(1).dimHead(4).build();
        Path weights = tmp.resolve("w.safetensors");
        ModelFiles.save(weights, config, MmcaWeights.random(config, 1));
        Path visual = tmp.resolve("v.npy");
        Npy.writeFloats(visual, RandomInputs.normal(2, 2, 3, 8));
        Path text = tmp.resolve("t.npy");
        FloatTensor t = RandomInputs.normal(3, 2, 2, 8);
        double[] td = new double[t.size()];
        for (int i = 0; i < td.length; i++) {
            td[i] = t.get(i);
        }
        Npy.writeDoubles(text, td, 2, 2, 8);
        Path mask = tmp.resolve("vm.npy");
        Npy.writeMask(mask, Mask.fromLengths(new int[] {3, 1}, 3));
        List<Seed> seeds = new ArrayList<>();
        for (Object[] s : new Object[][] {{"--weights", weights, true}, {"--visual", visual, false},
            {"--text", text, false}, {"--visual-mask", mask, false}}) {
            seeds.add(new Seed((String) s[0], (Path) s[1], Files.readAllBytes((Path) s[1]), (Boolean) s[2]));
        }
        Map<String, Path> byOption = new LinkedHashMap<>();
        for (Seed s : seeds) {
            byOption.put(s.option(), s.path());
        }
        Path ov = tmp.resolve("ov.npy");
        Path ot = tmp.resolve("ot.npy");
        String[] args = {"run", "--backend", "java", "--weights", weights.toString(), "--visual", visual.toString(),
            "--text", text.toString(), "--visual-mask", mask.toString(), "--out-visual", ov.toString(), "--out-text",
            ot.toString()};
        Backends.select("java", config); // its one log line goes to the real stderr, not into a case's capture
        assertEquals(0, CommandTestSupport.run(args).exitCode, "the unmutated files run");

        int[] outcomes = new int[2];
        SplittableRandom random = new SplittableRandom(SEED);
        assertTimeoutPreemptively(Duration.ofSeconds(Math.max(120, CASES / 2)), () -> {
            for (int i = 0; i < CASES; i++) {
                Seed victim = seeds.get(random.nextInt(seeds.size()));
                byte[] mutated = mutate(victim, random);
                for (Seed s : seeds) {
                    Files.write(s.path(), s == victim ? mutated : s.bytes());
                }
                Files.deleteIfExists(ov);
                Files.deleteIfExists(ot);
                long start = System.nanoTime();
                CommandTestSupport.Result r = CommandTestSupport.run(args);
                long ms = (System.nanoTime() - start) / 1_000_000;
                try {
                    outcomes[check(r, ms, byOption, ov, ot)]++;
                } catch (AssertionError e) {
                    throw new AssertionError("case " + i + " (seed " + SEED + ", " + victim.option() + " mutated; the"
                            + " input is kept at " + keep(i, victim, mutated) + "): " + e.getMessage(), e);
                }
            }
        });
        assertEquals(CASES, outcomes[0] + outcomes[1]);
        assertTrue(outcomes[0] >= CASES / 20, "some mutations still run (e.g. of data bytes): " + outcomes[0]);
        assertTrue(outcomes[1] >= CASES / 2, "most mutations are errors: " + outcomes[1]);
        for (Seed s : seeds) {
            Files.write(s.path(), s.bytes());
        }
        assertArrayEquals(seeds.get(0).bytes(), Files.readAllBytes(weights));
    }

    /** Checks one case's outcome: 0 when it ran, 1 when it failed as it should. */
    private static int check(CommandTestSupport.Result r, long ms, Map<String, Path> byOption, Path ov, Path ot)
            throws IOException {
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
            int[] vs = Npy.read(ov).shape();
            int[] ts = Npy.read(ot).shape();
            assertEquals(3, vs.length, "visual output " + Arrays.toString(vs));
            assertEquals(3, ts.length, "text output " + Arrays.toString(ts));
            assertEquals(vs[0], ts[0], "batch");
            // a run that succeeds never passes on NaN or infinities (an overflow is an error instead)
            assertTrue(Npy.read(ov).toFloatTensor().firstNonFinite() < 0, "visual output finite");
            assertTrue(Npy.read(ot).toFloatTensor().firstNonFinite() < 0, "text output finite");
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
        assertTrue(!Files.exists(ov) && !Files.exists(ot), "an output after an error");
        return 1;
    }

    private Path keep(int i, Seed victim, byte[] mutated) throws IOException {
        Path p = tmp.resolve("case-" + i + "-" + victim.path().getFileName());
        Files.write(p, mutated);
        return p;
    }

    /** {start, end} of the text header: after the 8-byte length (safetensors) or the .npy prefix. */
    private static int[] header(byte[] b, boolean safetensors) {
        if (safetensors) {
            long n = b.length >= 8 ? ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(0) : 0;
            return new int[] {Math.min(8, b.length), (int) Math.max(Math.min(8, b.length), Math.min(b.length, 8 + n))};
        }
        int n = b.length >= 10 ? (b[8] & 0xff) | (b[9] & 0xff) << 8 : 0;
        return new int[] {Math.min(10, b.length), Math.min(b.length, 10 + n)};
    }

    static byte[] mutate(Seed seed, SplittableRandom r) {
        byte[] b = seed.bytes().clone();
        int[] h = header(b, seed.safetensors());
        int lengthAt = seed.safetensors() ? 0 : 8;
        int lengthBytes = seed.safetensors() ? 8 : 2;
        switch (r.nextInt(9)) {
            case 0:
                return Arrays.copyOf(b, r.nextInt(b.length));
            case 1:
                for (int k = 1 + r.nextInt(8); k > 0; k--) {
                    int at = r.nextInt(b.length);
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            case 2:
                b[h[0] + r.nextInt(h[1] - h[0])] ^= (byte) (1 << r.nextInt(8));
                return b;
            case 3:
                b[h[0] + r.nextInt(h[1] - h[0])] = (byte) "{}[]():,\"' -0123456789eE.".charAt(r.nextInt(25));
                return b;
            case 4:
                return replace(b, h, r, "[0-9]+", NUMBERS[r.nextInt(NUMBERS.length)], lengthAt, lengthBytes);
            case 5: {
                long[] choices = {b.length, 0, -1, 1L << 31, 100_000_000L, h[1] - h[0] + 1 + r.nextInt(16),
                    h[1] - h[0] - 1 - r.nextInt(16), r.nextLong()};
                long v = choices[r.nextInt(choices.length)];
                for (int k = 0; k < lengthBytes; k++) {
                    b[lengthAt + k] = (byte) (v >>> (8 * k));
                }
                return b;
            }
            case 6:
                return replace(b, h, r, Pattern.quote(TOKENS[r.nextInt(TOKENS.length)]),
                        TOKENS[r.nextInt(TOKENS.length)], lengthAt, lengthBytes);
            case 7: {
                int at = r.nextInt(b.length + 1);
                int n = 1 + r.nextInt(16);
                if (r.nextBoolean() && at + n <= b.length) {
                    byte[] out = new byte[b.length - n];
                    System.arraycopy(b, 0, out, 0, at);
                    System.arraycopy(b, at + n, out, at, b.length - at - n);
                    return out;
                }
                byte[] out = new byte[b.length + n];
                System.arraycopy(b, 0, out, 0, at);
                for (int k = 0; k < n; k++) {
                    out[at + k] = (byte) r.nextInt(256);
                }
                System.arraycopy(b, at, out, at + n, b.length - at);
                return out;
            }
            default: { // an extreme value in the data area
                int data = (h[1] + 3) & ~3;
                if (data + 4 <= b.length) {
                    int at = data + 4 * r.nextInt((b.length - data) / 4);
                    ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putFloat(at, VALUES[r.nextInt(VALUES.length)]);
                }
                return b;
            }
        }
    }

    /** Replaces one random match in the header text; most of the time the length field follows the edit. */
    private static byte[] replace(byte[] b, int[] h, SplittableRandom r, String regex, String with, int lengthAt,
            int lengthBytes) {
        String text = new String(b, h[0], h[1] - h[0], StandardCharsets.ISO_8859_1);
        Matcher m = Pattern.compile(regex).matcher(text);
        List<int[]> found = new ArrayList<>();
        while (m.find()) {
            found.add(new int[] {m.start(), m.end()});
        }
        if (found.isEmpty()) {
            return b;
        }
        int[] pick = found.get(r.nextInt(found.size()));
        byte[] edited = (text.substring(0, pick[0]) + with + text.substring(pick[1])).getBytes(
                StandardCharsets.ISO_8859_1);
        byte[] out = new byte[b.length - (h[1] - h[0]) + edited.length];
        System.arraycopy(b, 0, out, 0, h[0]);
        System.arraycopy(edited, 0, out, h[0], edited.length);
        System.arraycopy(b, h[1], out, h[0] + edited.length, b.length - h[1]);
        if (r.nextInt(4) != 0) {
            for (int k = 0; k < lengthBytes; k++) {
                out[lengthAt + k] = (byte) ((long) edited.length >>> (8 * k));
            }
        }
        return out;
    }
}
