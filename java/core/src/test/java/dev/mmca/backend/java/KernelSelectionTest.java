package dev.mmca.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmca.backend.Availability;
import dev.mmca.plan.PackedWeight;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class KernelSelectionTest {
    /** A stand-in for the vector kernels with a given vector width. */
    private static Supplier<JavaKernels> vectorOf(int bits) {
        return () -> new JavaKernels() {
            @Override
            public String name() {
                return "vector";
            }

            @Override
            public String detail() {
                return bits + "-bit test kernels";
            }

            @Override
            public int vectorBits() {
                return bits;
            }

            @Override
            public Projection projection(PackedWeight w) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long attention(AttentionArgs a) {
                throw new UnsupportedOperationException();
            }

            @Override
            public long interleaved(AttentionArgs a, byte[] modality, int modalityStride, boolean block) {
                throw new UnsupportedOperationException();
            }
        };
    }

    private static final Supplier<JavaKernels> MUST_NOT_LOAD = () -> {
        throw new AssertionError("the vector kernels were loaded although the module is absent");
    };

    @Test
    void autoWithoutTheModuleRunsScalarAndNamesTheFlag() {
        for (String request : new String[] {null, "", "auto", " AUTO "}) {
            KernelSelection.Choice c = KernelSelection.choose(request, false, MUST_NOT_LOAD);
            assertSame(ScalarKernels.INSTANCE, c.kernels, String.valueOf(request));
            assertTrue(c.reason.contains("--add-modules jdk.incubator.vector"), c.reason);
            assertTrue(c.describe().startsWith("scalar ("), c.describe());
        }
    }

    @Test
    void autoWithTheModulePicksVectorFrom256Bits() {
        KernelSelection.Choice wide = KernelSelection.choose("auto", true, vectorOf(256));
        assertEquals("vector", wide.kernels.name());
        assertEquals(256, wide.kernels.vectorBits());
        KernelSelection.Choice avx512 = KernelSelection.choose(null, true, vectorOf(512));
        assertEquals("vector", avx512.kernels.name());
        KernelSelection.Choice narrow = KernelSelection.choose("auto", true, vectorOf(128));
        assertSame(ScalarKernels.INSTANCE, narrow.kernels);
        assertTrue(narrow.reason.contains("128 bits") && narrow.reason.contains("256"), narrow.reason);
    }

    @Test
    void scalarOnRequestEvenWithTheModule() {
        KernelSelection.Choice c = KernelSelection.choose("scalar", true, vectorOf(256));
        assertSame(ScalarKernels.INSTANCE, c.kernels);
        assertTrue(c.reason.contains("mmca.java.kernels=scalar"), c.reason);
    }

    @Test
    void vectorOnRequestIsAnErrorWithoutTheModuleNeverAFallback() {
        KernelSelection.Choice c = KernelSelection.choose("vector", false, MUST_NOT_LOAD);
        assertFalse(c.ok());
        assertNull(c.kernels);
        assertTrue(c.reason.startsWith("mmca.java.kernels=vector: ") && c.reason.contains("--add-modules"), c.reason);
        // narrow vectors are what was asked for, so they are honoured
        assertEquals(128, KernelSelection.choose("vector", true, vectorOf(128)).kernels.vectorBits());
    }

    @Test
    void aFailedLoadIsReported() {
        Supplier<JavaKernels> broken = () -> {
            throw new NoClassDefFoundError("jdk/incubator/vector/FloatVector");
        };
        KernelSelection.Choice auto = KernelSelection.choose("auto", true, broken);
        assertSame(ScalarKernels.INSTANCE, auto.kernels);
        assertTrue(auto.reason.contains("failed to load") && auto.reason.contains("FloatVector"), auto.reason);
        KernelSelection.Choice forced = KernelSelection.choose("vector", true, broken);
        assertFalse(forced.ok());
        assertTrue(forced.reason.contains("FloatVector"), forced.reason);
    }

    @Test
    void anUnknownRequestNamesThePropertyTheChoicesAndTheValue() {
        KernelSelection.Choice c = KernelSelection.choose("simd", true, vectorOf(256));
        assertFalse(c.ok());
        assertEquals("mmca.java.kernels: expected auto, vector or scalar, got 'simd'", c.reason);
    }

    /** This JVM's own choice, against how the build started it (with or without the module). */
    @Test
    void thisJvmRunsTheKernelsItsModulesAllow() {
        String module = System.getProperty(KernelSets.MODULE_PROPERTY);
        assumeTrue(module != null, "started outside the build: " + KernelSets.MODULE_PROPERTY + " is not set");
        KernelSelection.Choice c = KernelSelection.current();
        Availability a = JavaBackend.instance().availability();
        assertTrue(a.isAvailable(), a.toString());
        if (module.equals("present")) {
            assertTrue(KernelSelection.vectorModule().isPresent(), "the build passed --add-modules, the JVM lacks it");
            int bits = KernelSelection.vectorKernelsIfPresent().orElseThrow().vectorBits();
            assertEquals(bits >= KernelSelection.MIN_BITS ? "vector" : "scalar", c.kernels.name(), c.describe());
        } else {
            assertEquals("absent", module);
            assertTrue(KernelSelection.vectorModule().isEmpty(), "the module is present in the run without it");
            assertSame(ScalarKernels.INSTANCE, c.kernels, c.describe());
            assertTrue(JavaBackend.kernels().contains("--add-modules jdk.incubator.vector"), JavaBackend.kernels());
        }
        assertTrue(a.reason().contains(c.kernels.name() + " kernels"), a.reason());
    }
}
