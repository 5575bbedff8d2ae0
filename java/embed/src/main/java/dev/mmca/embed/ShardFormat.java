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

    /**
     * Metadata of output shards: what made the shard, so that a re-run redoes it when any of that
     * differs (see {@link EmbedPipeline}). Backend, batch size, window and thread count are not part of
     * it: they change outputs only within float tolerance.
     */
    public static final String META_FORMAT = "mmca_embed_format";
    public static final String FORMAT_VERSION = "2";
    public static final String META_RECORDS = "records";
    /** SHA-256 of the input shard's bytes (of each file of an .npy group, framed by its role and size). */
    public static final String META_INPUT_SHA256 = "input_sha256";
    /** SHA-256 of the model's twelve tensors as float32 values, so the same values in F16 or F32 files agree. */
    public static final String META_WEIGHTS_SHA256 = "weights_sha256";
    /** The resolved model config, every field, as {@code name=value} words. */
    public static final String META_CONFIG = "config";
    /** The backend that computed the shard: informative only, not compared. */
    public static final String META_BACKEND = "backend";

    private ShardFormat() {
    }
}
