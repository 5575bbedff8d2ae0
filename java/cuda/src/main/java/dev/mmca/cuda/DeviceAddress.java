package dev.mmca.cuda;

import org.bytedeco.javacpp.Pointer;

/** A JavaCPP pointer at a raw device (or stream) address, owned by someone else; never freed by JavaCPP. */
final class DeviceAddress extends Pointer {
    DeviceAddress(long address) {
        this.address = address;
    }
}
