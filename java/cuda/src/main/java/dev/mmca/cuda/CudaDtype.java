package dev.mmca.cuda;

/** Element type of tensors on the device ({@code enum mmca_dtype}). */
public enum CudaDtype {
    F32(0, 4),
    F16(1, 2),
    BF16(2, 2);

    private final int code;
    private final int bytes;

    CudaDtype(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** The {@code mmca_dtype} value. */
    int code() {
        return code;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }
}
