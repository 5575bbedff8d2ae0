package dev.mmca.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.testing.RandomInputs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cross-checks the formats against numpy: files written here are read by numpy (safetensors through
 * json + numpy, following the format's definition), and files numpy writes are read here. Skipped
 * when python3 with numpy is not installed.
 */
class PythonInteropTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void requireNumpy() {
        boolean ok;
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
            if (!ok) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        assumeTrue(ok, "python3 with numpy is not available");
    }

    private String python(String script, Path... args) throws IOException, InterruptedException {
        Path file = dir.resolve("check.py");
        Files.writeString(file, script);
        List<String> command = new java.util.ArrayList<>(List.of("python3", file.toString()));
        for (Path a : args) {
            command.add(a.toString());
        }
        Path output = dir.resolve("python-output.txt");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python finished");
        String out = Files.readString(output);
        assertEquals(0, p.exitValue(), "python failed:\n" + out);
        return out;
    }

    /** numpy's reading of our files, reported as JSON with exact bit patterns. */
    private static final String READ_OURS = String.join("\n",
            "import json, sys, numpy as np",
            "d = sys.argv[1]",
            "def safetensors(path):",
            "    raw = open(path, 'rb').read()",
            "    n = int.from_bytes(raw[:8], 'little')",
            "    assert n % 8 == 0, 'header not padded to 8 bytes'",
            "    text = raw[8:8 + n].decode('utf-8')",
            "    assert text.rstrip(' ') == text.rstrip(), 'padding must be spaces'",
            "    header = json.loads(text)",
            "    data = raw[8 + n:]",
            "    meta = header.pop('__metadata__', {})",
            "    spans = sorted(tuple(v['data_offsets']) for v in header.values())",
            "    end = 0",
            "    for b, e in spans:",
            "        assert b == end, 'not contiguous'",
            "        end = e",
            "    assert end == len(data), 'data not covered'",
            "    tensors = {}",
            "    for name, info in header.items():",
            "        assert info['dtype'] == 'F32'",
            "        b, e = info['data_offsets']",
            "        a = np.frombuffer(data[b:e], dtype='<f4').reshape(info['shape'])",
            "        tensors[name] = {'shape': list(a.shape), 'bits': a.view('<u4').ravel().tolist()}",
            "    return {'metadata': meta, 'names': list(header.keys()), 'tensors': tensors}",
            "def npy(path, bits):",
            "    a = np.load(path)",
            "    assert a.flags['C_CONTIGUOUS']",
            "    vals = a.view(bits).ravel().tolist() if bits else a.ravel().astype(int).tolist()",
            "    return {'dtype': a.dtype.str, 'shape': list(a.shape), 'values': vals}",
            "print(json.dumps({",
            "    'model': safetensors(d + '/model.safetensors'),",
            "    'named': safetensors(d + '/named.safetensors'),",
            "    'f4': npy(d + '/f4.npy', '<u4'),",
            "    'f8': npy(d + '/f8.npy', '<u8'),",
            "    'mask': npy(d + '/mask.npy', None),",
            "}))");

    @Test
    void numpyReadsWhatWeWrite() throws Exception {
        MmcaConfig config = MmcaConfig.builder().dim(6).heads(4).kvHeads(2).dimHead(3).build();
        MmcaWeights weights = MmcaWeights.random(config, 21);
        ModelFiles.save(dir.resolve("model.safetensors"), config, weights);
        Map<String, FloatTensor> named = new LinkedHashMap<>();
        named.put("é/漢字 \"quoted\"", FloatTensor.of(new float[] {1.5f, -0f, Float.MIN_VALUE, Float.MAX_VALUE}, 2, 2));
        named.put("z", RandomInputs.direct(RandomInputs.normal(3, 1, 3, 1)));
        Safetensors.write(dir.resolve("named.safetensors"), named, Map.of("ключ", "значение\n", "a", ""));
        FloatTensor f4 = RandomInputs.normal(5, 2, 3, 4);
        Npy.writeFloats(dir.resolve("f4.npy"), f4);
        double[] f8 = {Math.PI, -1e-310, 1e300, 0, -0.0, 7};
        Npy.writeDoubles(dir.resolve("f8.npy"), f8, 3, 1, 2);
        Mask mask = Mask.fromLengths(new int[] {1, 3}, 3);
        Npy.writeMask(dir.resolve("mask.npy"), mask);

        Map<?, ?> report = (Map<?, ?>) Json.parse(python(READ_OURS, dir).trim());

        Map<?, ?> model = (Map<?, ?>) report.get("model");
        assertEquals(MmcaWeights.parameterNames(), model.get("names"));
        assertEquals("4", ((Map<?, ?>) model.get("metadata")).get("heads"));
        assertEquals("modulo", ((Map<?, ?>) model.get("metadata")).get("head_mapping"));
        for (Map.Entry<String, FloatTensor> e : weights.toStateDict().entrySet()) {
            assertTensor(e.getValue(), ((Map<?, ?>) model.get("tensors")).get(e.getKey()), e.getKey());
        }
        Map<?, ?> namedReport = (Map<?, ?>) report.get("named");
        assertEquals(List.copyOf(named.keySet()), namedReport.get("names"));
        assertEquals(Map.of("ключ", "значение\n", "a", ""), namedReport.get("metadata"));
        for (Map.Entry<String, FloatTensor> e : named.entrySet()) {
            assertTensor(e.getValue(), ((Map<?, ?>) namedReport.get("tensors")).get(e.getKey()), e.getKey());
        }

        Map<?, ?> f4Report = (Map<?, ?>) report.get("f4");
        assertEquals("<f4", f4Report.get("dtype"));
        assertEquals(List.of(2L, 3L, 4L), longs(f4Report.get("shape")));
        List<Long> f4Bits = longs(f4Report.get("values"));
        for (int i = 0; i < f4.size(); i++) {
            assertEquals(Float.floatToRawIntBits(f4.get(i)), (int) (long) f4Bits.get(i), "f4[" + i + "]");
        }
        Map<?, ?> f8Report = (Map<?, ?>) report.get("f8");
        assertEquals("<f8", f8Report.get("dtype"));
        assertEquals(List.of(3L, 1L, 2L), longs(f8Report.get("shape")));
        List<?> f8Bits = (List<?>) f8Report.get("values");
        for (int i = 0; i < f8.length; i++) {
            assertEquals(Double.doubleToRawLongBits(f8[i]), Long.parseUnsignedLong(f8Bits.get(i).toString()), "f8[" + i + "]");
        }
        Map<?, ?> maskReport = (Map<?, ?>) report.get("mask");
        assertEquals("|b1", maskReport.get("dtype"));
        assertEquals(List.of(2L, 3L), longs(maskReport.get("shape")));
        assertEquals(List.of(1L, 0L, 0L, 1L, 1L, 1L), longs(maskReport.get("values")));
    }

    private static void assertTensor(FloatTensor want, Object report, String name) {
        Map<?, ?> r = (Map<?, ?>) report;
        int[] shape = want.shape();
        List<Long> gotShape = longs(r.get("shape"));
        assertEquals(shape.length, gotShape.size(), name);
        for (int i = 0; i < shape.length; i++) {
            assertEquals(shape[i], (long) gotShape.get(i), name);
        }
        List<Long> bits = longs(r.get("bits"));
        assertEquals(want.size(), bits.size(), name);
        for (int i = 0; i < want.size(); i++) {
            assertEquals(Float.floatToRawIntBits(want.get(i)), (int) (long) bits.get(i), name + "[" + i + "]");
        }
    }

    private static List<Long> longs(Object jsonArray) {
        List<Long> out = new java.util.ArrayList<>();
        for (Object o : (List<?>) jsonArray) {
            out.add(((Json.Number) o).longValueExact());
        }
        return out;
    }

    /** Files numpy writes (every npy version, F16/BF16/F64 safetensors), with numpy's own conversions as the answer. */
    private static final String WRITE_THEIRS = String.join("\n",
            "import json, sys, numpy as np",
            "from numpy.lib import format as fmt",
            "d = sys.argv[1]",
            "rng = np.random.default_rng(7)",
            "arrays = {'f4': rng.standard_normal((3, 5)).astype('<f4'), 'f8': rng.standard_normal((2, 2, 3)),",
            "          'b1': rng.random((2, 7)) < 0.5, 'u1': (rng.random((3, 4)) < 0.5).astype(np.uint8)}",
            "for v in (1, 2, 3):",
            "    for k, a in arrays.items():",
            "        with open(f'{d}/{k}_v{v}.npy', 'wb') as f:",
            "            fmt.write_array(f, a, version=(v, 0))",
            "        np.save(f'{d}/{k}_expected.npy', a)",
            "np.save(f'{d}/fortran.npy', np.asfortranarray(rng.standard_normal((3, 4)).astype('<f4')))",
            "half = np.arange(65536, dtype=np.uint16)",
            "bf = rng.integers(0, 65536, 4096, dtype=np.uint16)",
            "f64 = np.concatenate([rng.standard_normal(1000) * 10.0 ** rng.integers(-60, 60, 1000), [1e39, -1e-50, 0.0]])",
            "parts = [half.astype('<u2').tobytes(), bf.astype('<u2').tobytes(), f64.astype('<f8').tobytes()]",
            "header, offset = {'__metadata__': {'format': 'np'}}, 0",
            "for name, dtype, shape, raw in (('half', 'F16', [256, 256], parts[0]), ('bf', 'BF16', [4096], parts[1]),",
            "                                ('f64', 'F64', [1003], parts[2])):",
            "    header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(raw)]}",
            "    offset += len(raw)",
            "text = json.dumps(header).encode('utf-8')",
            "text += b' ' * (-len(text) % 8)",
            "with open(f'{d}/numpy.safetensors', 'wb') as f:",
            "    f.write(len(text).to_bytes(8, 'little') + text + b''.join(parts))",
            "np.save(f'{d}/half_expected.npy', half.view(np.float16).astype(np.float32).reshape(256, 256))",
            "np.save(f'{d}/bf_expected.npy', (bf.astype(np.uint32) << 16).view(np.float32))",
            "np.save(f'{d}/f64_expected.npy', f64.astype(np.float32))");

    @Test
    void weReadWhatNumpyWrites() throws Exception {
        python(WRITE_THEIRS, dir);
        for (String kind : List.of("f4", "f8", "b1", "u1")) {
            NpyArray expected = Npy.read(dir.resolve(kind + "_expected.npy"));
            for (int v = 1; v <= 3; v++) {
                Path p = dir.resolve(kind + "_v" + v + ".npy");
                assertEquals(v, Files.readAllBytes(p)[6], "numpy wrote version " + v);
                NpyArray a = Npy.read(p);
                assertEquals(expected.dtype(), a.dtype(), p.toString());
                assertArrayEquals(expected.shape(), a.shape(), p.toString());
                assertArrayEquals(expected.toDoubles(), a.toDoubles(), p.toString());
                if (kind.startsWith("f")) {
                    assertArrayEquals(expected.toFloatTensor().toArray(), a.toFloatTensor().toArray(), p.toString());
                } else {
                    assertEquals(expected.toMask(), a.toMask(), p.toString());
                }
            }
        }
        MalformedFileException fortran = org.junit.jupiter.api.Assertions.assertThrows(MalformedFileException.class,
                () -> Npy.read(dir.resolve("fortran.npy")));
        assertTrue(fortran.getMessage().contains("fortran_order"), fortran.getMessage());

        SafetensorsFile f = Safetensors.read(dir.resolve("numpy.safetensors"));
        assertEquals(Map.of("format", "np"), f.metadata());
        for (String name : List.of("half", "bf", "f64")) {
            FloatTensor expected = Npy.read(dir.resolve(name + "_expected.npy")).toFloatTensor();
            FloatTensor got = f.tensors().get(name);
            assertArrayEquals(expected.shape(), got.shape(), name);
            for (int i = 0; i < expected.size(); i++) {
                float w = expected.get(i);
                float g = got.get(i);
                if (Float.isNaN(w)) {
                    assertTrue(Float.isNaN(g), name + "[" + i + "] is NaN");
                } else {
                    assertEquals(Float.floatToRawIntBits(w), Float.floatToRawIntBits(g), name + "[" + i + "]");
                }
            }
        }
        assertTrue(new String(Files.readAllBytes(dir.resolve("numpy.safetensors")), 8, 20, StandardCharsets.UTF_8)
                .startsWith("{\"__metadata__\": {"), "numpy's json uses its own separators, which we accept");
    }
}
