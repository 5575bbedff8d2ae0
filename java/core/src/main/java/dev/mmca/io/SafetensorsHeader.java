package dev.mmca.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The checked header of a safetensors file, read without its data (see {@link Safetensors#readHeader}):
 * each tensor's dtype, shape and byte range in header order, the {@code __metadata__} map, and the
 * file's size, which the byte ranges cover exactly.
 */
public record SafetensorsHeader(Map<String, TensorInfo> tensors, Map<String, String> metadata, long fileBytes) {
    public SafetensorsHeader {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(tensors, "tensors")));
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata, "metadata")));
    }

    /** One tensor's entry: {@code begin} and {@code end} are offsets into the data area. */
    public record TensorInfo(String dtype, int[] shape, long begin, long end) {
        public TensorInfo {
            Objects.requireNonNull(dtype, "dtype");
            shape = shape.clone();
        }

        /** The shape (a copy). */
        @Override
        public int[] shape() {
            return shape.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorInfo t && dtype.equals(t.dtype) && java.util.Arrays.equals(shape, t.shape)
                    && begin == t.begin && end == t.end;
        }

        @Override
        public int hashCode() {
            return Objects.hash(dtype, java.util.Arrays.hashCode(shape), begin, end);
        }

        @Override
        public String toString() {
            return dtype + " " + java.util.Arrays.toString(shape) + " [" + begin + ", " + end + "]";
        }
    }
}
