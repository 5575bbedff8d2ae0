package dev.mmca.embed;

/**
 * Names used in input and output shards.
 *
 * <p>An input shard is a safetensors file holding a padded batch of records: {@code visual
 * [R, Nv, dim]}, {@code text [R, Nt, dim]} and optionally {@code visual_mask [R, Nv]},
 * {@code text_mask [R, Nt]} (1 = real token, 0 = padding; real tokens come first, so a mask row
 * is its record's length; a missing mask means every token is real). An output shard has the same
 * file name and layout with {@code visual_out} and {@code text_out} in place of the inputs, the
 * two masks copied, and zeros at every padded position.
 */
public final class ShardFormat {
    public static final String VISUAL = "visual";
    public static final String TEXT = "text";
    public static final String VISUAL_MASK = "visual_mask";
    public static final String TEXT_MASK = "text_mask";
    public static final String VISUAL_OUT = "visual_out";
    public static final String TEXT_OUT = "text_out";

    /** File name ending of shards, input and output. */
    public static final String EXTENSION = ".safetensors";

    /** Metadata of output shards, used to recognise a finished shard on a re-run. */
    public static final String META_FORMAT = "mmca_embed_format";
    public static final String FORMAT_VERSION = "1";
    public static final String META_RECORDS = "records";
    public static final String META_INPUT_BYTES = "input_bytes";
    public static final String META_WEIGHTS_CRC32 = "weights_crc32";
    public static final String META_BACKEND = "backend";

    private ShardFormat() {
    }
}
