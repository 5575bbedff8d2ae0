package dev.mmca.cuda;

import dev.mmca.plan.AttentionOp;
import dev.mmca.plan.AttentionParamsLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * Host memory for one or two {@code mmca_attention_params} blocks (a {@code mmca_text_params}), written by
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

    /** The blocks as bytes (native order), e.g. for a test double of the device. */
    ByteBuffer bytes() {
        return bytes;
    }

    long address() {
        return address;
    }
}
