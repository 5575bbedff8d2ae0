package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.io.FileChecks;
import dev.mmca.io.HeapCheck;
import dev.mmca.io.MalformedFileException;
import dev.mmca.io.Npy;
import dev.mmca.io.NpyArray;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Input shards as groups of {@code .npy} files: {@code NAME.visual.npy} [R, Nv, dim] ({@code <f4} or
 * {@code <f8}), {@code NAME.text.npy} [R, Nt, dim], and optionally {@code NAME.visual_mask.npy},
 * {@code NAME.text_mask.npy} [R, N] ({@code |b1} or {@code |u1}). The group is named by its
 * {@code .visual.npy} file; its output shard is {@code NAME.safetensors}.
 */
final class NpyShards {
    static final String VISUAL_SUFFIX = "." + ShardFormat.VISUAL + ".npy";
    /** The files of a group, in the order they are read and hashed. */
    static final List<String> ROLES = List.of(ShardFormat.VISUAL, ShardFormat.TEXT, ShardFormat.VISUAL_MASK,
            ShardFormat.TEXT_MASK);
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(\\s*(\\d+)");

    private NpyShards() {
    }

    static boolean isNpyShard(Path p) {
        return p.getFileName().toString().endsWith(VISUAL_SUFFIX);
    }

    /** {@code NAME} of {@code NAME.visual.npy}. */
    static String baseName(Path visual) {
        String n = visual.getFileName().toString();
        return n.substring(0, n.length() - VISUAL_SUFFIX.length());
    }

    static Path sibling(Path visual, String tensor) {
        return visual.resolveSibling(baseName(visual) + "." + tensor + ".npy");
    }

    /** The files of the group that exist (special files included: reading them is refused with the reason). */
    static List<Path> files(Path visual) {
        return ROLES.stream().map(t -> sibling(visual, t)).filter(Files::exists).toList();
    }

    /**
     * The group's tensors under the safetensors shard names, masks as float 0/1; with a digest (may be
     * null), the input hash of {@link Provenance} is taken while reading.
     */
    static Map<String, FloatTensor> read(Path visual, MessageDigest digest) throws IOException {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        for (String role : ROLES) {
            Path p = sibling(visual, role);
            boolean mask = role.equals(ShardFormat.VISUAL_MASK) || role.equals(ShardFormat.TEXT_MASK);
            if (!Files.exists(p)) {
                if (!mask) {
                    throw new MalformedFileException(visual, "expected the " + role + " tokens of this shard in "
                            + p.getFileName() + ", found no such file");
                }
                if (digest != null) {
                    Provenance.frame(digest, role, -1);
                }
                continue;
            }
            if (digest != null) {
                Provenance.frame(digest, role, Files.size(p));
            }
            NpyArray a = Npy.read(p, digest);
            if (!mask) {
                m.put(role, floats(p, a));
                continue;
            }
            Mask k;
            try {
                k = a.toMask();
            } catch (IllegalArgumentException e) {
                throw new MalformedFileException(p, e.getMessage(), e);
            }
            byte[] b = k.bytesView();
            float[] f = HeapCheck.floats(p, "mask " + role + " as float32", b.length);
            for (int i = 0; i < b.length; i++) {
                f[i] = b[i];
            }
            m.put(role, FloatTensor.of(f, k.batch(), k.length()));
        }
        return m;
    }

    private static FloatTensor floats(Path p, NpyArray a) throws MalformedFileException {
        try {
            return a.toFloatTensor();
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(p, e.getMessage(), e);
        }
    }

    /** Records in the group (first dimension of the visual array, from its header), or -1. */
    static int records(Path visual) {
        try (FileChannel ch = FileChecks.openForReading(visual)) {
            ByteBuffer head = ByteBuffer.allocate((int) Math.min(4096, ch.size()));
            while (head.hasRemaining() && ch.read(head) >= 0) {
                // fill what the file has
            }
            byte[] b = java.util.Arrays.copyOf(head.array(), head.position());
            if (b.length < 10 || (b[0] & 0xff) != 0x93) {
                return -1;
            }
            Matcher m = SHAPE.matcher(new String(b, StandardCharsets.ISO_8859_1));
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
