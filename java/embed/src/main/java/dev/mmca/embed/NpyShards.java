package dev.mmca.embed;

import dev.mmca.FloatTensor;
import dev.mmca.Mask;
import dev.mmca.io.MalformedFileException;
import dev.mmca.io.Npy;
import dev.mmca.io.NpyArray;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** The files of the group that exist. */
    static List<Path> files(Path visual) {
        return java.util.stream.Stream.of(ShardFormat.VISUAL, ShardFormat.TEXT, ShardFormat.VISUAL_MASK,
                ShardFormat.TEXT_MASK).map(t -> sibling(visual, t)).filter(Files::isRegularFile).toList();
    }

    /** The group's tensors under the safetensors shard names, masks as float 0/1. */
    static Map<String, FloatTensor> read(Path visual) throws IOException {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        m.put(ShardFormat.VISUAL, floats(visual));
        Path text = sibling(visual, ShardFormat.TEXT);
        if (!Files.isRegularFile(text)) {
            throw new MalformedFileException(visual, "expected the text tokens of this shard in " + text.getFileName()
                    + ", found no such file");
        }
        m.put(ShardFormat.TEXT, floats(text));
        for (String mask : new String[] {ShardFormat.VISUAL_MASK, ShardFormat.TEXT_MASK}) {
            Path p = sibling(visual, mask);
            if (Files.isRegularFile(p)) {
                Mask k;
                try {
                    k = Npy.read(p).toMask();
                } catch (IllegalArgumentException e) {
                    throw new MalformedFileException(p, e.getMessage(), e);
                }
                byte[] b = k.bytesView();
                float[] f = new float[b.length];
                for (int i = 0; i < b.length; i++) {
                    f[i] = b[i];
                }
                m.put(mask, FloatTensor.of(f, k.batch(), k.length()));
            }
        }
        return m;
    }

    private static FloatTensor floats(Path p) throws IOException {
        NpyArray a = Npy.read(p);
        try {
            return a.toFloatTensor();
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(p, e.getMessage(), e);
        }
    }

    /** Records in the group (first dimension of the visual array, from its header), or -1. */
    static int records(Path visual) {
        try (InputStream in = Files.newInputStream(visual)) {
            byte[] head = in.readNBytes(4096);
            if (head.length < 10 || (head[0] & 0xff) != 0x93) {
                return -1;
            }
            Matcher m = SHAPE.matcher(new String(head, StandardCharsets.ISO_8859_1));
            return m.find() ? Integer.parseInt(m.group(1)) : -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }
}
