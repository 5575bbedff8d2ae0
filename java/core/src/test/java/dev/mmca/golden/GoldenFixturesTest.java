package dev.mmca.golden;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaOutput;
import dev.mmca.MmcaWeights;
import dev.mmca.SimpleMmca;
import dev.mmca.io.ConfigOverrides;
import dev.mmca.io.LoadedModel;
import dev.mmca.io.ModelFiles;
import dev.mmca.io.Npy;
import dev.mmca.io.NpyArray;
import dev.mmca.parity.Precision;
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
 * Checks the library against fixtures computed by an independent PyTorch implementation of the
 * specification (tools/golden/make_golden.py). Every number compared here comes from the files
 * under {@code src/test/resources/golden/}.
 */
class GoldenFixturesTest {

    /** An exact float64 implementation should agree with PyTorch's float64 to rounding noise. */
    private static final double FLOAT64_BOUND = Precision.FP64.relativeTolerance();
    /** SPEC "Numerics": a float32 backend against a float64 reference. */
    private static final double FLOAT32_BOUND = Precision.FP32.relativeTolerance();

    static List<String> cases() throws IOException {
        List<String> names = Files.readAllLines(goldenRoot().resolve("cases.txt"), StandardCharsets.UTF_8)
                .stream().map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toList());
        assertFalse(names.isEmpty(), "golden/cases.txt lists no case");
        return names;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void float64ReferenceMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.load(name);
        Reference64.Output ref = Reference64.simpleMmca(f.config, f.weights, f.visual, f.text, f.visualMask,
                f.textMask);
        assertWithin(name + " visual", flatten(ref.visual), f.expectedVisual, FLOAT64_BOUND);
        assertWithin(name + " text", flatten(ref.text), f.expectedText, FLOAT64_BOUND);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void javaBackendMatchesPyTorch(String name) throws IOException {
        Fixture f = Fixture.load(name);
        try (SimpleMmca mmca = SimpleMmca.create(f.config, f.weights, "java")) {
            MmcaOutput out = mmca.forward(f.visual, f.text, f.visualMask, f.textMask);
            assertWithin(name + " visual", toDoubles(out.visual()), f.expectedVisual, FLOAT32_BOUND);
            assertWithin(name + " text", toDoubles(out.text()), f.expectedText, FLOAT32_BOUND);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void javaBackendOutputsNoNaNAndZeroRowsForMaskedTokens(String name) throws IOException {
        Fixture f = Fixture.load(name);
        try (SimpleMmca mmca = SimpleMmca.create(f.config, f.weights, "java")) {
            MmcaOutput out = mmca.forward(f.visual, f.text, f.visualMask, f.textMask);
            assertEquals(-1, out.visual().firstNonFinite(), name + ": non-finite value in the visual output");
            assertEquals(-1, out.text().firstNonFinite(), name + ": non-finite value in the text output");
            assertMaskedRowsZero(name + " visual", out.visual(), f.visualMask);
            assertMaskedRowsZero(name + " text", out.text(), f.textMask);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void fixtureIsConsistent(String name) throws IOException {
        // Guards the fixtures themselves: the file loads cleanly, shapes agree with the loaded config and
        // the expected values are finite.
        Fixture f = Fixture.load(name);
        assertEquals(List.of(), f.loadWarnings, name + ": loading the weights gave warnings");
        int batch = f.visual.dim(0);
        assertArrayEquals(new int[] {batch, f.visual.dim(1), f.config.dim()}, f.expectedVisualShape, name);
        assertArrayEquals(new int[] {batch, f.text.dim(1), f.config.dim()}, f.expectedTextShape, name);
        for (double x : f.expectedVisual) {
            assertTrue(Double.isFinite(x), name + ": non-finite expected visual value");
        }
        for (double x : f.expectedText) {
            assertTrue(Double.isFinite(x), name + ": non-finite expected text value");
        }
    }

    // ------------------------------------------------------------------------------------------

    /** One case folder, read with the library's own file readers. */
    private static final class Fixture {
        MmcaConfig config;
        MmcaWeights weights;
        FloatTensor visual;
        FloatTensor text;
        Mask visualMask;
        Mask textMask;
        double[] expectedVisual;
        double[] expectedText;
        int[] expectedVisualShape;
        int[] expectedTextShape;
        List<String> loadWarnings;

        static Fixture load(String name) throws IOException {
            Path dir = goldenRoot().resolve(name);
            Fixture f = new Fixture();
            LoadedModel model = ModelFiles.load(dir.resolve("weights.safetensors"), ConfigOverrides.none());
            f.config = model.config();
            f.weights = model.weights();
            f.loadWarnings = model.warnings();
            f.visual = Npy.read(dir.resolve("visual.npy")).toFloatTensor();
            f.text = Npy.read(dir.resolve("text.npy")).toFloatTensor();
            f.visualMask = readMaskIfPresent(dir.resolve("visual_mask.npy"));
            f.textMask = readMaskIfPresent(dir.resolve("text_mask.npy"));
            NpyArray ev = Npy.read(dir.resolve("expected_visual.npy"));
            NpyArray et = Npy.read(dir.resolve("expected_text.npy"));
            f.expectedVisual = ev.toDoubles();
            f.expectedText = et.toDoubles();
            f.expectedVisualShape = ev.shape();
            f.expectedTextShape = et.shape();
            return f;
        }

        private static Mask readMaskIfPresent(Path file) throws IOException {
            return Files.exists(file) ? Npy.read(file).toMask() : null;
        }
    }

    private static Path goldenRoot() {
        URL url = GoldenFixturesTest.class.getResource("/golden/cases.txt");
        assertTrue(url != null, "golden/cases.txt is not on the test classpath");
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
            double d = actual[i] - expected[i];
            num += d * d;
            den += expected[i] * expected[i];
        }
        assertTrue(den > 0, what + ": the expected output is all zero, which would make the check vacuous");
        double rel = Math.sqrt(num / den);
        assertTrue(rel <= bound, what + ": relative error " + rel + " exceeds " + bound);
    }

    private static void assertMaskedRowsZero(String what, FloatTensor out, Mask mask) {
        if (mask == null) {
            return;
        }
        int n = out.dim(1);
        int dim = out.dim(2);
        for (int b = 0; b < out.dim(0); b++) {
            for (int i = 0; i < n; i++) {
                if (mask.get(b, i)) {
                    continue;
                }
                for (int e = 0; e < dim; e++) {
                    // == rather than assertEquals: -0.0f is a zero too
                    assertTrue(out.get((b * n + i) * dim + e) == 0f,
                            what + ": masked token [" + b + ", " + i + "] has a non-zero output");
                }
            }
        }
    }

    private static double[] flatten(double[][][] a) {
        int rows = a.length * a[0].length;
        int cols = a[0][0].length;
        double[] r = new double[rows * cols];
        int k = 0;
        for (double[][] m : a) {
            for (double[] row : m) {
                System.arraycopy(row, 0, r, k, cols);
                k += cols;
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
