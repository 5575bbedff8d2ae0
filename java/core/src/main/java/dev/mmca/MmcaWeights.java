package dev.mmca;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The weights of a {@link SimpleMmca}: three {@link MgqaWeights} blocks, named as in the upstream
 * PyTorch {@code state_dict} ({@code visual_self_attn.to_q.weight}, ...), so files saved from
 * PyTorch load as they are.
 */
public final class MmcaWeights {
    /** Block names, as in the upstream module. */
    public static final String VISUAL = "visual_self_attn";
    public static final String TEXTUAL = "textual_self_attn";
    public static final String CROSS = "cross_attn";
    /** Projection names inside a block. */
    public static final List<String> PROJECTIONS = List.of("to_q", "to_k", "to_v", "to_out");

    private final MgqaWeights visualSelf;
    private final MgqaWeights textualSelf;
    private final MgqaWeights cross;

    public MmcaWeights(MgqaWeights visualSelf, MgqaWeights textualSelf, MgqaWeights cross) {
        this.visualSelf = Objects.requireNonNull(visualSelf, "visualSelf");
        this.textualSelf = Objects.requireNonNull(textualSelf, "textualSelf");
        this.cross = Objects.requireNonNull(cross, "cross");
    }

    public MgqaWeights visualSelf() { return visualSelf; }
    public MgqaWeights textualSelf() { return textualSelf; }
    public MgqaWeights cross() { return cross; }

    /** Checks all twelve shapes against {@code config}; messages name the upstream tensor. */
    public void validate(MmcaConfig config) {
        visualSelf.validate(VISUAL, config);
        textualSelf.validate(TEXTUAL, config);
        cross.validate(CROSS, config);
    }

    /** All twelve upstream tensor names, in a fixed order. */
    public static List<String> parameterNames() {
        List<String> names = new ArrayList<>(12);
        for (String block : List.of(VISUAL, TEXTUAL, CROSS)) {
            for (String p : PROJECTIONS) {
                names.add(block + "." + p + ".weight");
            }
        }
        return names;
    }

    /** The weights as an upstream-named state dict (views, not copies), in {@link #parameterNames()} order. */
    public Map<String, FloatTensor> toStateDict() {
        Map<String, FloatTensor> m = new LinkedHashMap<>();
        put(m, VISUAL, visualSelf);
        put(m, TEXTUAL, textualSelf);
        put(m, CROSS, cross);
        return m;
    }

    private static void put(Map<String, FloatTensor> m, String block, MgqaWeights w) {
        m.put(block + ".to_q.weight", w.toQ());
        m.put(block + ".to_k.weight", w.toK());
        m.put(block + ".to_v.weight", w.toV());
        m.put(block + ".to_out.weight", w.toOut());
    }

    /**
     * Builds weights from an upstream-named state dict. Every one of the twelve names must be
     * present (a missing one is an error naming it); other entries are ignored here, and callers
     * that read files warn about them.
     */
    public static MmcaWeights fromStateDict(Map<String, FloatTensor> stateDict) {
        Objects.requireNonNull(stateDict, "stateDict");
        return new MmcaWeights(block(stateDict, VISUAL), block(stateDict, TEXTUAL), block(stateDict, CROSS));
    }

    private static MgqaWeights block(Map<String, FloatTensor> m, String block) {
        return new MgqaWeights(need(m, block + ".to_q.weight"), need(m, block + ".to_k.weight"),
                need(m, block + ".to_v.weight"), need(m, block + ".to_out.weight"));
    }

    private static FloatTensor need(Map<String, FloatTensor> m, String name) {
        FloatTensor t = m.get(name);
        if (t == null) {
            throw new IllegalArgumentException("weights: missing tensor '" + name + "' (expected the twelve upstream"
                    + " state_dict names, e.g. visual_self_attn.to_q.weight)");
        }
        return t;
    }

    /** Seeded random weights with PyTorch's {@code nn.Linear} default distribution. */
    public static MmcaWeights random(MmcaConfig config, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        return new MmcaWeights(MgqaWeights.random(config, r), MgqaWeights.random(config, r),
                MgqaWeights.random(config, r));
    }
}
