package dev.mmca.plan;

import dev.mmca.FloatTensor;
import java.util.Objects;

/**
 * One weight matrix of a plan, {@code [out, in]} row-major in {@code nn.Linear} layout, assembled once from
 * the model's tensors so that everything projected from one input is one GEMM: {@link #stack} puts
 * {@code to_q; to_k; to_v} of a block on top of each other (their outputs side by side), and
 * {@link #concatInputs} puts two {@code to_out} matrices side by side, so that one GEMM over two head
 * outputs laid side by side gives their sum. Backends convert this into their own layout once.
 */
public final class PackedWeight {
    private final String name;
    private final int out;
    private final int in;
    private final float[] data;

    private PackedWeight(String name, int out, int in, float[] data) {
        this.name = Objects.requireNonNull(name, "name");
        this.out = out;
        this.in = in;
        this.data = data;
    }

    /** {@code [p_1; p_2; ...]}: parts {@code [out_i, in]} stacked along out. */
    public static PackedWeight stack(String name, FloatTensor... parts) {
        int in = parts[0].dim(1);
        long out = 0;
        for (FloatTensor p : parts) {
            requireIn(name, p, in);
            out += p.dim(0);
        }
        float[] data = new float[Math.toIntExact(out * in)];
        int at = 0;
        for (FloatTensor p : parts) {
            p.copyTo(data, at);
            at += p.size();
        }
        return new PackedWeight(name, (int) out, in, data);
    }

    /** {@code [p_1 | p_2 | ...]}: parts {@code [out, in_i]} side by side along in. */
    public static PackedWeight concatInputs(String name, FloatTensor... parts) {
        int out = parts[0].dim(0);
        long in = 0;
        for (FloatTensor p : parts) {
            if (p.rank() != 2 || p.dim(0) != out) {
                throw new IllegalArgumentException(name + ": expected parts with " + out + " rows, got " + p);
            }
            in += p.dim(1);
        }
        float[] data = new float[Math.toIntExact(in * out)];
        int base = 0;
        for (FloatTensor p : parts) {
            int cols = p.dim(1);
            float[] src = p.toArray();
            for (int o = 0; o < out; o++) {
                System.arraycopy(src, o * cols, data, (int) (o * in + base), cols);
            }
            base += cols;
        }
        return new PackedWeight(name, out, (int) in, data);
    }

    private static void requireIn(String name, FloatTensor p, int in) {
        if (p.rank() != 2 || p.dim(1) != in) {
            throw new IllegalArgumentException(name + ": expected parts with " + in + " columns, got " + p);
        }
    }

    /** Which tensors this is made of, e.g. {@code visual_self_attn.to_q|to_k|to_v}. */
    public String name() { return name; }
    public int out() { return out; }
    public int in() { return in; }

    /** The elements, {@code [out, in]} row-major (not a copy: do not modify). */
    public float[] data() { return data; }

    @Override
    public String toString() {
        return name + "[" + out + ", " + in + "]";
    }
}
