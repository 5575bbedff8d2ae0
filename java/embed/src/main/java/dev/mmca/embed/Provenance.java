package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import dev.mmca.io.FileChecks;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;

/**
 * What an output shard records about how it was made, and how those records are computed: the
 * input's content hash, the weights' values hash and the resolved config.
 *
 * <p>The input hash is taken while the shard is read for embedding (no extra pass) and, on a
 * re-run, by streaming the input through the hash without parsing it. For a safetensors shard it
 * is the SHA-256 of the file; for an {@code .npy} group, of each of its files in the fixed order
 * visual, text, visual_mask, text_mask, each preceded by its role and size (a missing mask by its
 * role alone).
 */
final class Provenance {
    private Provenance() {
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    static String hex(MessageDigest d) {
        return HexFormat.of().formatHex(d.digest());
    }

    /** Every field of the config as {@code name=value} words; a new field of MmcaConfig must be added here. */
    static String config(MmcaConfig c) {
        return "dim=" + c.dim() + " heads=" + c.heads() + " kv_heads=" + c.kvHeads() + " dim_head=" + c.dimHead()
                + " causal=" + c.causal() + " qk_norm=" + c.qkNorm() + " composition="
                + c.composition().name().toLowerCase(Locale.ROOT) + " head_mapping="
                + c.headMapping().name().toLowerCase(Locale.ROOT)
                // always written, though only composition interleaved reads it (the others hold self): every field
                // of the config is recorded, so a shard's record never depends on which fields matter to it
                + " image_attention=" + c.imageAttention().label();
    }

    /** SHA-256 of the twelve tensors in {@link MmcaWeights#parameterNames()} order: name, shape, float32 values. */
    static String weights(MmcaWeights weights) {
        MessageDigest d = sha256();
        Map<String, FloatTensor> state = weights.toStateDict();
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (String name : MmcaWeights.parameterNames()) {
            FloatTensor t = state.get(name);
            d.update(name.getBytes(StandardCharsets.UTF_8));
            d.update((byte) 0);
            int[] shape = t.shape();
            buf.clear();
            buf.putInt(shape.length);
            for (int s : shape) {
                buf.putInt(s);
            }
            buf.flip();
            d.update(buf);
            int n = t.size();
            for (int done = 0; done < n; ) {
                buf.clear();
                int k = Math.min(n - done, buf.capacity() / Float.BYTES);
                for (int i = 0; i < k; i++) {
                    buf.putInt(Float.floatToRawIntBits(t.get(done + i)));
                }
                buf.flip();
                d.update(buf);
                done += k;
            }
        }
        return HexFormat.of().formatHex(d.digest());
    }

    /** Before the bytes of one file of an .npy group: its role and size. */
    static void frame(MessageDigest d, String role, long size) {
        d.update(role.getBytes(StandardCharsets.UTF_8));
        d.update(ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0).putLong(size).array());
    }

    /** The input hash of a shard, by streaming its file(s) through SHA-256; special files are refused. */
    static String input(Path shard) throws IOException {
        MessageDigest d = sha256();
        if (!NpyShards.isNpyShard(shard)) {
            stream(shard, d);
            return hex(d);
        }
        for (String role : NpyShards.ROLES) {
            Path p = NpyShards.sibling(shard, role);
            if (Files.exists(p)) {
                frame(d, role, Files.size(p));
                stream(p, d);
            } else {
                frame(d, role, -1);
            }
        }
        return hex(d);
    }

    private static void stream(Path file, MessageDigest d) throws IOException {
        try (FileChannel ch = FileChecks.openForReading(file)) {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (ch.read(buf) >= 0) {
                buf.flip();
                d.update(buf);
                buf.clear();
            }
        }
    }
}
