package dev.mmca.io;

/**
 * Exact conversions of IEEE 754 binary16 ("F16") and bfloat16 ("BF16") bit patterns to float32.
 * Every half-precision value (subnormals, infinities, NaN payloads included) is representable in
 * float32, so the conversion never rounds.
 */
final class Float16 {
    /** float32 values of all 65536 binary16 bit patterns: a table lookup is the fastest exact conversion. */
    private static final float[] HALF_TO_FLOAT = buildTable();

    private Float16() {
    }

    static float halfToFloat(short bits) {
        return HALF_TO_FLOAT[bits & 0xffff];
    }

    /** bfloat16 is the upper half of a float32. */
    static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    private static float[] buildTable() {
        float[] t = new float[1 << 16];
        for (int h = 0; h < t.length; h++) {
            t[h] = convert(h);
        }
        return t;
    }

    /** binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. */
    private static float convert(int h) {
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1f;
        int mantissa = h & 0x3ff;
        if (exponent == 0x1f) {
            // Infinity or NaN: keep the payload (its top bit is the quiet bit in both formats).
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            // Zero or subnormal: mantissa * 2^-24, exact in float32.
            float magnitude = mantissa * 0x1p-24f;
            return sign == 0 ? magnitude : -magnitude;
        }
        // Normal: rebias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }
}
