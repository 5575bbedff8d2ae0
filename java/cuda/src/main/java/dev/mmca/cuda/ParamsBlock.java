package dev.mmca.cuda;

import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.AttentionParamsLayout;
import dev.mmca.plan.InterleavedAttentionOp;
import dev.mmca.plan.InterleavedParamsLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * Host memory for one or two {@code mmca_attention_params} blocks (a {@code mmca_text_params}), or one
 * {@code mmca_interleaved_params}, written by
 * {@link AttentionParamsLayout} and passed to the kernel library by address. The library copies the
 * block into the launch, so one instance is reused for every launch of a machine.
 */
final class ParamsBlock {
    private final ByteBuffer bytes = ByteBuffer.allocateDirect(2 * AttentionParamsLayout.SIZE)
            .order(ByteOrder.nativeOrder());
    private final long address = new Pointer(bytes).address();

    /** Writes {@code op} as block {@code index} (0: self / single, 1: cross). */
    ParamsBlock put(int index, AttentionOp op, AttentionParamsLayout.Addresses at, CudaDtype dtype) {
        AttentionParamsLayout.write(op, at, dtype.code(), dtype.bytes(), bytes, index * AttentionParamsLayout.SIZE);
        return this;
    }

    /** Writes {@code op} as an {@code mmca_interleaved_params} at the start (it fits in the two blocks' room). */
    ParamsBlock putInterleaved(InterleavedAttentionOp op, AttentionParamsLayout.Addresses at, CudaDtype dtype) {
        InterleavedParamsLayout.write(op, at, dtype.code(), dtype.bytes(), bytes, 0);
        return this;
    }

    /** The blocks as bytes (native order), e.g. for a test double of the device. */
    ByteBuffer bytes() {
        return bytes;
    }

    long address() {
        return address;
    }
}
