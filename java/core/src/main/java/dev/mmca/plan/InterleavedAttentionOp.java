package dev.mmca.plan;

import dev.mmca.ImageAttention;
import java.util.Objects;

/**
 * Interleaved multi-modal causal attention (SPEC "Interleaved MMCA"): one grouped-query attention problem whose
 * keys carry a modality, {@code modality[b, j]} (0 padding, 1 text, 2 image), and whose every query row keeps two
 * softmaxes, one over a text group T and one over an image group I, their weighted sums of values added:
 * <pre>
 *   o_i = sum_{j in T(i)} softmax_T(s_i)_j v_j + sum_{j in I(i)} softmax_I(s_i)_j v_j     (an empty group adds 0)
 *   s_ij = scale * q_i . k_j
 * </pre>
 * Query i sits at key position {@code p_i} ({@code queryPositions[b, i]}, or {@code i + keys - queries}); it is
 * a real token when {@code 0 <= p_i < keyLength_b} and {@code modality[b, p_i] != 0}, and its modality is
 * {@code modality[b, p_i]}; other rows are zero. Keys {@code j >= keyLength_b} ({@code keyLengths}) and padding
 * keys are never visible. With {@code t(j) = modality[b, j]}:
 * <ul>
 *   <li>text query: {@code T = {j <= p_i : t(j) = 1}}, {@code I = {j <= p_i : t(j) = 2}};</li>
 *   <li>image query, {@link ImageAttention#SELF}: {@code T = {j <= p_i : t(j) = 1}}, {@code I = {p_i}};</li>
 *   <li>image query, {@link ImageAttention#BLOCK}: {@code T} empty, {@code I} = the image keys with no text key
 *   between them and {@code p_i} (its image: the run of image tokens holding it, both directions; padding
 *   neither joins nor splits a run).</li>
 * </ul>
 * The problem itself ({@link #attention()}: operands, sizes, scale, qk-norm, head mapping, key lengths and query
 * positions) is an ordinary {@link AttentionOp}, causal and without masks (the modality takes their place), so
 * the native encoding is {@code mmca_attention_params} followed by the modality ({@link InterleavedParamsLayout}).
 */
public record InterleavedAttentionOp(AttentionOp attention, Buffer modality, ImageAttention imageAttention)
        implements Op {
    public InterleavedAttentionOp {
        Objects.requireNonNull(attention, "attention");
        Objects.requireNonNull(modality, "modality");
        Objects.requireNonNull(imageAttention, "imageAttention");
        String name = attention.name();
        if (!attention.causal()) {
            throw new IllegalArgumentException(name + ": expected a causal attention problem (the text groups are"
                    + " causal), got " + attention);
        }
        if (attention.keyMask() != null || attention.queryMask() != null) {
            throw new IllegalArgumentException(name + ": expected no key or query mask (the modality marks padding),"
                    + " got " + attention.keyMask() + " and " + attention.queryMask());
        }
        if (modality.type() != Buffer.Type.U8 || modality.rows() != attention.batch()
                || modality.width() != attention.keys()) {
            throw new IllegalArgumentException(name + ".modality: expected a [" + attention.batch() + ", "
                    + attention.keys() + "] byte tensor (one modality per key), got " + modality);
        }
    }

    @Override
    public String name() {
        return attention.name();
    }

    /** Batch stride of the modality in bytes (its width). */
    public long modalityBatchStride() {
        return modality.width();
    }

    @Override
    public void accept(Visitor visitor) {
        visitor.interleavedAttention(this);
    }
}
