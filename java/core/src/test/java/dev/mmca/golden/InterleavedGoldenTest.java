package dev.mmca.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.InterleavedMmca;
import dev.mmca.Modality;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedInterleaved;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.io.NpyArray;
import dev.mmca.testing.InterleavedChecks;
import dev.mmca.parity.Reference64;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Interleaved attention against fixtures computed by an independent PyTorch implementation of the paper's formula
 * (tools/golden/make_golden.py: two masked softmaxes with -inf, zero for an empty group): the float64 oracle to
 * rounding, and the java backend within the float32 bound. Every number compared comes from the files under
 * {@code src/test/resources/golden/} listed in {@code interleaved_cases.txt}.
 */
class InterleavedGoldenTest {
    private static final double FLOAT64_BOUND = 1e-9;
    private static final double FLOAT32_BOUND = 1e-5;

    static List<String> cases() throws IOException {
        List<String> names = Files.readAllLines(root().resolve("interleaved_cases.txt"), StandardCharsets.UTF_8)
                .stream().map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList());
        assertFalse(names.isEmpty(), "golden/interleaved_cases.txt lists no case");
        return names;
    }

    /** One case folder, read with the library's own readers. */
    record Fixture(LoadedInterleaved model, FloatTensor tokens, Modality modality, double[] expected, int[] shape) {
        static Fixture load(String name) throws IOException {
            Path dir = root().resolve(name);
            NpyArray expected = Npy.read(dir.resolve("expected.npy"));
            return new Fixture(ModelFiles.readInterleaved(dir.resolve("weights.safetensors"), ConfigOverrides.none()),
                    Npy.read(dir.resolve("tokens.npy")).toFloatTensor(),
                    Npy.readIntegers(dir.resolve("modality.npy")).toModality(), expected.toDoubles(), expected.shape());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void float64ReferenceMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.load(name);
        double[][][] ref = Reference64.interleaved(f.model().config(), f.model().weights(), f.tokens(), f.modality());
        assertWithin(name, flatten(ref), f.expected(), FLOAT64_BOUND);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void javaBackendMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.load(name);
        try (InterleavedMmca model = InterleavedMmca.create(f.model().config(), f.model().weights(), "java")) {
            FloatTensor out = model.forward(f.tokens(), f.modality());
            assertWithin(name, toDoubles(out), f.expected(), FLOAT32_BOUND);
            InterleavedChecks.assertPaddingRowsZero(name, out, f.modality());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fixtureIsConsistent(String name) throws IOException {
        Fixture f = Fixture.load(name);
        assertEquals(List.of(), f.model().warnings(), name + ": loading the weights gave warnings");
        assertEquals(Composition.INTERLEAVED, f.model().config().composition());
        assertArrayEquals(new int[] {f.modality().batch(), f.modality().length(), f.model().config().dim()}, f.shape());
        assertArrayEquals(f.tokens().shape(), f.shape());
        for (double x : f.expected()) {
            assertTrue(Double.isFinite(x), name + ": non-finite expected value");
        }
    }

    static Path root() {
        URL url = InterleavedGoldenTest.class.getResource("/golden/interleaved_cases.txt");
        assertTrue(url != null, "golden/interleaved_cases.txt is not on the test classpath");
        try {
            return Paths.get(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Relative error {@code ||actual - expected|| / ||expected||}; any non-finite actual value fails. */
    private static void assertWithin(String what, double[] actual, double[] expected, double bound) {
        assertEquals(expected.length, actual.length, what + ": element count");
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            assertTrue(Double.isFinite(actual[i]), what + ": non-finite value at flat index " + i);
            num += (actual[i] - expected[i]) * (actual[i] - expected[i]);
            den += expected[i] * expected[i];
        }
        assertTrue(den > 0, what + ": the expected output is all zero, which would make the check vacuous");
        double rel = Math.sqrt(num / den);
        assertTrue(rel <= bound, what + ": relative error " + rel + " exceeds " + bound);
    }

    private static double[] flatten(double[][][] a) {
        double[] r = new double[a.length * a[0].length * a[0][0].length];
        int k = 0;
        for (double[][] m : a) {
            for (double[] row : m) {
                System.arraycopy(row, 0, r, k, row.length);
                k += row.length;
            }
        }
        return r;
    }

    private static double[] toDoubles(FloatTensor t) {
        double[] r = new double[t.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = t.get(i);
        }
        return r;
    }
}
