package dev.mmca.bench;

import java.util.SplittableRandom;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas;

/**
 * The ceiling to read the other numbers against: OpenBLAS {@code cblas_sgemm} on square float32
 * matrices ({@code 2 * n^3} FLOPs), the same OpenBLAS library libtorch is linked with here.
 */
public final class SgemmCalibration implements Runner {
    private final int n;
    private final FloatPointer a;
    private final FloatPointer b;
    private final FloatPointer c;

    public SgemmCalibration(int n, int threads) {
        TorchPeer.load();
        Loader.load(openblas.class);
        openblas.blas_set_num_threads(threads);
        this.n = n;
        long size = (long) n * n;
        this.a = new FloatPointer(size);
        this.b = new FloatPointer(size);
        this.c = new FloatPointer(size);
        SplittableRandom r = new SplittableRandom(7);
        float[] values = new float[Math.toIntExact(size)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (r.nextDouble() - 0.5);
        }
        a.put(values);
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (r.nextDouble() - 0.5);
        }
        b.put(values);
    }

    /** FLOPs of one call. */
    public double flops() {
        return 2.0 * n * n * n;
    }

    public int size() {
        return n;
    }

    @Override
    public String name() {
        return "openblas";
    }

    @Override
    public void run() {
        openblas.cblas_sgemm(openblas.CblasRowMajor, openblas.CblasNoTrans, openblas.CblasNoTrans, n, n, n, 1f,
                a, n, b, n, 0f, c, n);
    }

    @Override
    public float[] result() {
        float[] out = new float[n * n];
        c.get(out);
        return out;
    }

    @Override
    public void close() {
        a.close();
        b.close();
        c.close();
    }
}
