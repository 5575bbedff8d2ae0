package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Feeds a reader thousands of corrupted variants of valid files (truncations, bit flips, edits of
 * the header text and of the length fields) and checks that every read either succeeds or throws
 * {@link MalformedFileException}: never another exception, never an {@link OutOfMemoryError}, and
 * never slowly.
 */
final class FileFuzzer {
    /** A reader under test. */
    interface Reader {
        Object read(Path file) throws IOException;
    }

    /** Where a format's text header lies in a file, so that mutations can target it. */
    interface HeaderLocator {
        /** {start, end} of the header text, clamped to the file. */
        int[] locate(byte[] file);
    }

    private static final String[] NUMBERS = {"0", "1", "-1", "7", "8", "2147483647", "2147483648", "4294967296",
        "9223372036854775807", "9223372036854775808", "99999999999999999999", "1e9", "1.5", "-0", "00", "65536"};
    private static final String SPECIAL = "{}[]():,\"' \\-0123456789eE.tfnTFLxu\n\u00e9";

    /** Outcome counts, so that a test can check that the fuzzing reached both outcomes. */
    static final class Outcome {
        int succeeded;
        int malformed;
        long slowestNanos;
    }

    private FileFuzzer() {
    }

    static Outcome run(List<byte[]> seeds, Reader reader, HeaderLocator locator, int lengthFieldOffset,
            int lengthFieldBytes, List<String> tokens, long seed, int iterations, Path dir) {
        Outcome outcome = new Outcome();
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            SplittableRandom random = new SplittableRandom(seed);
            Path file = dir.resolve("fuzzed.bin");
            for (int i = 0; i < iterations; i++) {
                byte[] base = seeds.get(random.nextInt(seeds.size()));
                byte[] mutated = mutate(base, random, locator, lengthFieldOffset, lengthFieldBytes, tokens);
                Files.write(file, mutated);
                long start = System.nanoTime();
                try {
                    reader.read(file);
                    outcome.succeeded++;
                } catch (MalformedFileException e) {
                    assertTrue(e.getMessage().startsWith(file.toString()), "message names the file: " + e.getMessage());
                    outcome.malformed++;
                } catch (Throwable t) {
                    Path keep = dir.resolve("failing-" + i + ".bin");
                    Files.write(keep, mutated);
                    fail("iteration " + i + " (seed " + seed + "): expected success or MalformedFileException, got "
                            + t + "; input kept at " + keep, t);
                }
                long elapsed = System.nanoTime() - start;
                outcome.slowestNanos = Math.max(outcome.slowestNanos, elapsed);
                if (elapsed > 2_000_000_000L) {
                    fail("iteration " + i + " (seed " + seed + "): one read took " + elapsed / 1_000_000 + " ms");
                }
            }
        });
        return outcome;
    }

    private static byte[] mutate(byte[] base, SplittableRandom r, HeaderLocator locator, int lengthOffset,
            int lengthBytes, List<String> tokens) {
        byte[] b = base.clone();
        int[] header = locator.locate(b);
        switch (r.nextInt(8)) {
            case 0: // truncate
                return Arrays.copyOf(b, r.nextInt(b.length));
            case 1: { // flip a few bits anywhere
                int flips = 1 + r.nextInt(8);
                for (int k = 0; k < flips; k++) {
                    int at = r.nextInt(b.length);
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 2: { // flip a bit inside the header
                if (header[1] > header[0]) {
                    int at = header[0] + r.nextInt(header[1] - header[0]);
                    b[at] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 3: { // replace a header character with a syntactically significant one
                if (header[1] > header[0]) {
                    int at = header[0] + r.nextInt(header[1] - header[0]);
                    b[at] = (byte) SPECIAL.charAt(r.nextInt(SPECIAL.length()));
                }
                return b;
            }
            case 4: // replace a number in the header text
                return replaceInHeader(b, header, r, "[0-9]+", NUMBERS[r.nextInt(NUMBERS.length)], lengthOffset,
                        lengthBytes);
            case 5: { // rewrite the header length field
                ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
                long current = lengthBytes == 8 ? bb.getLong(lengthOffset)
                        : lengthBytes == 4 ? bb.getInt(lengthOffset) & 0xffffffffL : bb.getShort(lengthOffset) & 0xffff;
                long[] choices = {current + 1 + r.nextInt(16), current - 1 - r.nextInt(16), r.nextLong(), 0, -1,
                    b.length, b.length - lengthOffset - lengthBytes, 1L << 31, 100_000_000L};
                long v = choices[r.nextInt(choices.length)];
                for (int k = 0; k < lengthBytes; k++) {
                    b[lengthOffset + k] = (byte) (v >>> (8 * k));
                }
                return b;
            }
            case 6: { // replace a token (dtype, key, literal) with another
                String from = tokens.get(r.nextInt(tokens.size()));
                String to = tokens.get(r.nextInt(tokens.size()));
                return replaceInHeader(b, header, r, java.util.regex.Pattern.quote(from), to, lengthOffset, lengthBytes);
            }
            default: { // insert or delete a run of bytes
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
        }
    }

    /** Replaces one random match of {@code regex} in the header text, keeping the bytes around it. */
    private static byte[] replaceInHeader(byte[] b, int[] header, SplittableRandom r, String regex, String replacement,
            int lengthOffset, int lengthBytes) {
        if (header[1] <= header[0]) {
            return b;
        }
        String text = new String(b, header[0], header[1] - header[0], StandardCharsets.ISO_8859_1);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile(regex).matcher(text);
        List<int[]> matches = new ArrayList<>();
        while (m.find()) {
            matches.add(new int[] {m.start(), m.end()});
        }
        if (matches.isEmpty()) {
            return b;
        }
        int[] pick = matches.get(r.nextInt(matches.size()));
        String edited = text.substring(0, pick[0]) + replacement + text.substring(pick[1]);
        byte[] editedBytes = edited.getBytes(StandardCharsets.ISO_8859_1);
        byte[] out = new byte[b.length - (header[1] - header[0]) + editedBytes.length];
        System.arraycopy(b, 0, out, 0, header[0]);
        System.arraycopy(editedBytes, 0, out, header[0], editedBytes.length);
        System.arraycopy(b, header[1], out, header[0] + editedBytes.length, b.length - header[1]);
        // Most of the time keep the length field consistent with the edited header, so parsing goes deeper.
        if (r.nextInt(4) != 0) {
            long v = editedBytes.length;
            for (int k = 0; k < lengthBytes; k++) {
                out[lengthOffset + k] = (byte) (v >>> (8 * k));
            }
        }
        return out;
    }
}
