package dev.mmca.io;

import dev.mmca.Composition;
import dev.mmca.FloatTensor;
import dev.mmca.HeadMapping;
import dev.mmca.ImageAttention;
import dev.mmca.MgqaWeights;
import dev.mmca.MmcaConfig;
import dev.mmca.MmcaWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Loads and saves a whole model as one safetensors file (SPEC "Weights on disk"): the twelve
 * upstream {@code state_dict} tensors plus {@code __metadata__} keys {@code heads}, {@code kv_heads},
 * {@code dim_head}, {@code causal}, {@code qk_norm}, {@code composition}, {@code head_mapping}.
 *
 * <p>Configuration is resolved as follows: each value comes from the {@link ConfigOverrides} when
 * given there, else from the metadata, else its default. {@code heads} is required. Then
 * {@code dim = to_q.cols}, {@code dimHead = to_q.rows / heads} and {@code kvHeads = to_k.rows / dimHead};
 * a stated {@code dim_head} or {@code kv_heads} that contradicts these shapes is an error naming both values.
 */
public final class ModelFiles {
    public static final String HEADS = "heads";
    public static final String KV_HEADS = "kv_heads";
    public static final String DIM_HEAD = "dim_head";
    public static final String CAUSAL = "causal";
    public static final String QK_NORM = "qk_norm";
    public static final String COMPOSITION = "composition";
    public static final String HEAD_MAPPING = "head_mapping";
    /** Interleaved models only: {@code self} or {@code block}. */
    public static final String IMAGE_ATTENTION = "image_attention";
    /** The four tensors of an interleaved model: one block's upstream names, without a prefix. */
    public static final List<String> INTERLEAVED_TENSORS = List.of("to_q.weight", "to_k.weight", "to_v.weight",
            "to_out.weight");

    private static final System.Logger LOG = System.getLogger(ModelFiles.class.getName());
    private static final String Q_NAME = MmcaWeights.VISUAL + ".to_q.weight";
    private static final String K_NAME = MmcaWeights.VISUAL + ".to_k.weight";

    private ModelFiles() {
    }

    /** {@link #load(Path, ConfigOverrides)} without overrides. */
    public static LoadedModel load(Path weights) throws IOException {
        return load(weights, ConfigOverrides.none());
    }

    /**
     * Reads a model from a safetensors file, and logs its warnings (unknown tensors, overrides that
     * replace a metadata value) at {@code WARNING}.
     *
     * @param overrides explicit values that win over the file's metadata; null means none
     * @throws MalformedFileException when the file is not valid, lacks tensors or {@code heads}, has
     *     invalid metadata, or its metadata contradicts its tensor shapes
     * @throws IllegalArgumentException when an override contradicts the tensor shapes or gives an
     *     invalid configuration
     * @throws IOException when the file cannot be read
     */
    public static LoadedModel load(Path weights, ConfigOverrides overrides) throws IOException {
        LoadedModel model = read(weights, overrides);
        for (String w : model.warnings()) {
            LOG.log(System.Logger.Level.WARNING, w);
        }
        return model;
    }

    /**
     * Reads a model as {@link #load(Path, ConfigOverrides)} does, but only returns the warnings
     * ({@link LoadedModel#warnings()}) instead of also logging them: for callers that report them
     * themselves (a command line prints them in its own format), so that each is reported once.
     */
    public static LoadedModel read(Path weights, ConfigOverrides overrides) throws IOException {
        Objects.requireNonNull(weights, "weights");
        ConfigOverrides given = overrides == null ? ConfigOverrides.none() : overrides;
        SafetensorsFile file = Safetensors.read(weights);
        Map<String, FloatTensor> tensors = file.tensors();
        // An interleaved model has other tensors; say so rather than list twelve missing ones.
        if (given.composition() == Composition.INTERLEAVED) {
            throw new IllegalArgumentException(weights + ": composition: the override says interleaved, which is"
                    + " one block over one sequence, not a SimpleMMCA model; read it with ModelFiles.readInterleaved");
        }
        if (given.composition() == null && "interleaved".equalsIgnoreCase(file.metadata().get(COMPOSITION))) {
            throw new MalformedFileException(weights, "composition: metadata says interleaved: the file holds one"
                    + " interleaved block, not a SimpleMMCA model; read it with ModelFiles.readInterleaved (mmca run"
                    + " --tokens ... --modality ...)");
        }
        List<String> expected = MmcaWeights.parameterNames();
        List<String> missing = new ArrayList<>();
        for (String name : expected) {
            if (!tensors.containsKey(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new MalformedFileException(weights, "expected the twelve SimpleMMCA tensors, missing " + missing
                    + " (the file has " + tensors.size() + " tensors" + (tensors.isEmpty() ? "" : ", e.g. '"
                    + tensors.keySet().iterator().next() + "'") + ")");
        }
        List<String> warnings = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
            if (!expected.contains(e.getKey())) {
                warnings.add(weights + ": ignoring tensor '" + e.getKey() + "' " + Arrays.toString(e.getValue().shape())
                        + ", which is not one of the twelve SimpleMMCA tensors");
            }
        }
        Resolver r = new Resolver(weights, file.metadata(), warnings);
        MmcaConfig config = resolve(r, given, tensors);
        MmcaWeights model = MmcaWeights.fromStateDict(tensors);
        try {
            model.validate(config);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(weights, e.getMessage() + " (resolved " + config + ")", e);
        }
        return new LoadedModel(config, model, warnings);
    }

    /**
     * Reads an interleaved model (SPEC "Interleaved MMCA"): the four tensors of one block, {@code to_q.weight},
     * {@code to_k.weight}, {@code to_v.weight}, {@code to_out.weight}, and the metadata of {@link #read} plus
     * {@code image_attention} ({@code self} or {@code block}). {@code composition}, when stated, must be
     * {@code interleaved}; {@code causal}, when stated, must be true. Warnings are returned, not logged.
     *
     * @throws MalformedFileException when the file is not valid, lacks a tensor or {@code heads}, has invalid
     *     metadata, or its metadata contradicts its tensor shapes
     * @throws IllegalArgumentException when an override contradicts the tensor shapes or the composition
     * @throws IOException when the file cannot be read
     */
    public static LoadedInterleaved readInterleaved(Path weights, ConfigOverrides overrides) throws IOException {
        Objects.requireNonNull(weights, "weights");
        ConfigOverrides given = overrides == null ? ConfigOverrides.none() : overrides;
        SafetensorsFile file = Safetensors.read(weights);
        Map<String, FloatTensor> tensors = file.tensors();
        List<String> missing = new ArrayList<>();
        for (String name : INTERLEAVED_TENSORS) {
            if (!tensors.containsKey(name)) {
                missing.add(name);
            }
        }
        if (!missing.isEmpty()) {
            throw new MalformedFileException(weights, "expected the four tensors of an interleaved block, missing "
                    + missing + " (the file has " + tensors.size() + " tensors" + (tensors.isEmpty() ? "" : ", e.g. '"
                    + tensors.keySet().iterator().next() + "'") + ")");
        }
        List<String> warnings = new ArrayList<>();
        for (Map.Entry<String, FloatTensor> e : tensors.entrySet()) {
            if (!INTERLEAVED_TENSORS.contains(e.getKey())) {
                warnings.add(weights + ": ignoring tensor '" + e.getKey() + "' " + Arrays.toString(e.getValue().shape())
                        + ", which is not one of the four tensors of an interleaved block");
            }
        }
        Resolver r = new Resolver(weights, file.metadata(), warnings);
        MmcaConfig config = resolve(r, given, tensors, "to_q.weight", "to_k.weight", true);
        MgqaWeights block = new MgqaWeights(tensors.get("to_q.weight"), tensors.get("to_k.weight"),
                tensors.get("to_v.weight"), tensors.get("to_out.weight"));
        try {
            block.validate("", config);
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(weights, e.getMessage() + " (resolved " + config + ")", e);
        }
        return new LoadedInterleaved(config, block, warnings);
    }

    /**
     * Writes an interleaved model: its four tensors (F32) and its full configuration as metadata (composition
     * {@code interleaved}, {@code image_attention}), atomically.
     *
     * @throws IllegalArgumentException when the composition is not INTERLEAVED or the weights do not match
     * @throws IOException naming the path when it cannot be written
     */
    public static void saveInterleaved(Path file, MmcaConfig config, MgqaWeights weights) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        if (config.composition() != Composition.INTERLEAVED) {
            throw new IllegalArgumentException("config: expected composition INTERLEAVED, got " + config.composition()
                    + " (save SimpleMMCA models with ModelFiles.save)");
        }
        weights.validate("", config);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(HEADS, Integer.toString(config.heads()));
        metadata.put(KV_HEADS, Integer.toString(config.kvHeads()));
        metadata.put(DIM_HEAD, Integer.toString(config.dimHead()));
        metadata.put(CAUSAL, "true");
        metadata.put(QK_NORM, Boolean.toString(config.qkNorm()));
        metadata.put(COMPOSITION, "interleaved");
        metadata.put(HEAD_MAPPING, config.headMapping().name().toLowerCase(Locale.ROOT));
        metadata.put(IMAGE_ATTENTION, config.imageAttention().label());
        Map<String, FloatTensor> tensors = new LinkedHashMap<>();
        tensors.put("to_q.weight", weights.toQ());
        tensors.put("to_k.weight", weights.toK());
        tensors.put("to_v.weight", weights.toV());
        tensors.put("to_out.weight", weights.toOut());
        Safetensors.write(file, tensors, metadata);
    }

    private static MmcaConfig resolve(Resolver r, ConfigOverrides given, Map<String, FloatTensor> tensors)
            throws MalformedFileException {
        return resolve(r, given, tensors, Q_NAME, K_NAME, false);
    }

    /**
     * The configuration from overrides, metadata and the shapes of {@code qName} and {@code kName}; with
     * {@code interleaved}, composition INTERLEAVED (the default there; another stated one is an error), always
     * causal, and the image rule from {@code image_attention}.
     */
    private static MmcaConfig resolve(Resolver r, ConfigOverrides given, Map<String, FloatTensor> tensors, String qName,
            String kName, boolean interleaved) throws MalformedFileException {
        Stated<Integer> heads = r.pick(HEADS, given.heads(), r::positiveInt);
        if (heads.value == null) {
            throw new MalformedFileException(r.file, "heads: the number of query heads is not recorded in the file"
                    + " (no __metadata__ key 'heads'); give it explicitly (the --heads option, or"
                    + " ConfigOverrides.builder().heads(n)), or save the file with ModelFiles.save");
        }
        FloatTensor toQ = tensors.get(qName);
        FloatTensor toK = tensors.get(kName);
        requireMatrix(r.file, qName, toQ);
        requireMatrix(r.file, kName, toK);
        int h = heads.value;
        int qRows = toQ.dim(0);
        int dim = toQ.dim(1);
        if (qRows % h != 0) {
            throw heads.contradiction(r.file, "heads", h, qName + " " + Arrays.toString(toQ.shape())
                    + " has " + qRows + " rows, which is not a multiple of it");
        }
        int dimHead = qRows / h;
        Stated<Integer> statedDimHead = r.pick(DIM_HEAD, given.dimHead(), r::positiveInt);
        if (statedDimHead.value != null && statedDimHead.value != dimHead) {
            throw statedDimHead.contradiction(r.file, DIM_HEAD, statedDimHead.value, qName + " "
                    + Arrays.toString(toQ.shape()) + " with heads " + h + " implies " + dimHead);
        }
        int kRows = toK.dim(0);
        if (kRows % dimHead != 0) {
            throw new MalformedFileException(r.file, kName + " " + Arrays.toString(toK.shape()) + ": expected a row"
                    + " count that is a multiple of dim_head " + dimHead + ", got " + kRows);
        }
        int kvHeads = kRows / dimHead;
        Stated<Integer> statedKv = r.pick(KV_HEADS, given.kvHeads(), r::positiveInt);
        if (statedKv.value != null && statedKv.value != kvHeads) {
            throw statedKv.contradiction(r.file, KV_HEADS, statedKv.value, kName + " "
                    + Arrays.toString(toK.shape()) + " with dim_head " + dimHead + " implies " + kvHeads);
        }
        MmcaConfig.Builder b = MmcaConfig.builder().dim(dim).heads(h).kvHeads(kvHeads).dimHead(dimHead);
        Boolean causal = r.pick(CAUSAL, given.causal(), r::bool).value;
        Boolean qkNorm = r.pick(QK_NORM, given.qkNorm(), r::bool).value;
        Stated<Composition> stated = r.pick(COMPOSITION, given.composition(), r::composition);
        Composition composition = stated.value;
        HeadMapping headMapping = r.pick(HEAD_MAPPING, given.headMapping(), r::headMapping).value;
        if (interleaved) {
            if (composition != null && composition != Composition.INTERLEAVED) {
                throw stated.contradiction(r.file, COMPOSITION, composition.name().toLowerCase(Locale.ROOT),
                        "the file holds one interleaved block (to_q, to_k, to_v, to_out without a prefix); expected"
                                + " interleaved");
            }
            composition = Composition.INTERLEAVED;
            Stated<Boolean> statedCausal = r.pick(CAUSAL, given.causal(), r::bool);
            if (Boolean.FALSE.equals(statedCausal.value)) {
                throw statedCausal.contradiction(r.file, CAUSAL, false, "composition interleaved is causal by"
                        + " definition (a text token sees the tokens up to itself); expected true");
            }
            ImageAttention rule = r.pick(IMAGE_ATTENTION, given.imageAttention(), r::imageAttention).value;
            if (rule != null) {
                b.imageAttention(rule);
            }
        } else if (composition == Composition.INTERLEAVED) {
            throw stated.contradiction(r.file, COMPOSITION, "interleaved", "a SimpleMMCA model has three blocks;"
                    + " read an interleaved block with ModelFiles.readInterleaved (mmca run --composition interleaved)");
        }
        if (composition != null) {
            b.composition(composition);
        }
        if (causal != null) {
            b.causal(causal);
        }
        if (qkNorm != null) {
            b.qkNorm(qkNorm);
        }
        if (headMapping != null) {
            b.headMapping(headMapping);
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new MalformedFileException(r.file, "the tensor shapes give an invalid configuration: "
                    + e.getMessage());
        }
    }

    private static void requireMatrix(Path file, String name, FloatTensor t) throws MalformedFileException {
        if (t.rank() != 2 || t.dim(0) == 0 || t.dim(1) == 0) {
            throw new MalformedFileException(file, name + ": expected a non-empty 2-D matrix [out, in], got shape "
                    + Arrays.toString(t.shape()));
        }
    }

    /** A value and where it came from. */
    private static final class Stated<T> {
        final T value;
        final boolean fromOverride;

        Stated(T value, boolean fromOverride) {
            this.value = value;
            this.fromOverride = fromOverride;
        }

        /**
         * A contradiction with the tensor shapes: the file's fault when the value came from its metadata
         * (returned, to be thrown), the caller's when it came from an override (thrown here).
         */
        MalformedFileException contradiction(Path file, String key, Object stated, String evidence) {
            String message = key + ": " + (fromOverride ? "the override says " : "metadata says ") + stated + " but "
                    + evidence;
            if (fromOverride) {
                throw new IllegalArgumentException(file + ": " + message);
            }
            return new MalformedFileException(file, message);
        }
    }

    /** Reads metadata strings strictly; the error names the key and the value. */
    private static final class Resolver {
        final Path file;
        final Map<String, String> metadata;
        final List<String> warnings;

        Resolver(Path file, Map<String, String> metadata, List<String> warnings) {
            this.file = file;
            this.metadata = metadata;
            this.warnings = warnings;
        }

        interface Parser<T> {
            T parse(String key, String text) throws MalformedFileException;
        }

        <T> Stated<T> pick(String key, T override, Parser<T> parser) throws MalformedFileException {
            String text = metadata.get(key);
            T fromFile;
            try {
                fromFile = text == null ? null : parser.parse(key, text);
            } catch (MalformedFileException e) {
                if (override == null) {
                    throw e;
                }
                // An explicit value makes the broken one irrelevant: report it, do not fail.
                warnings.add(e.getMessage() + " (ignored: the override " + describe(override) + " is used)");
                return new Stated<>(override, true);
            }
            if (override != null) {
                if (fromFile != null && !fromFile.equals(override)) {
                    warnings.add(file + ": " + key + ": the override " + describe(override)
                            + " replaces the metadata value " + describe(fromFile));
                }
                return new Stated<>(override, true);
            }
            return new Stated<>(fromFile, false);
        }

        private static String describe(Object v) {
            return v instanceof Enum ? ((Enum<?>) v).name().toLowerCase(Locale.ROOT) : String.valueOf(v);
        }

        private MalformedFileException bad(String key, String text, String expected) {
            return new MalformedFileException(file, "__metadata__ '" + key + "': expected " + expected + ", got '"
                    + text + "'");
        }

        Integer positiveInt(String key, String text) throws MalformedFileException {
            if (!text.matches("[1-9][0-9]{0,8}")) {
                throw bad(key, text, "a positive integer");
            }
            return Integer.parseInt(text);
        }

        Boolean bool(String key, String text) throws MalformedFileException {
            switch (text) {
                case "true": case "True": case "1": return Boolean.TRUE;
                case "false": case "False": case "0": return Boolean.FALSE;
                default: throw bad(key, text, "true, false, True, False, 1 or 0");
            }
        }

        Composition composition(String key, String text) throws MalformedFileException {
            return parseEnum(key, text, Composition::parse, "cross, seed or interleaved");
        }

        HeadMapping headMapping(String key, String text) throws MalformedFileException {
            return parseEnum(key, text, HeadMapping::parse, "modulo or grouped");
        }

        ImageAttention imageAttention(String key, String text) throws MalformedFileException {
            return parseEnum(key, text, ImageAttention::parse, "self or block");
        }

        private <T> T parseEnum(String key, String text, Function<String, T> parse, String expected)
                throws MalformedFileException {
            if (!text.equals(text.trim())) {
                throw bad(key, text, expected);
            }
            try {
                return parse.apply(text);
            } catch (IllegalArgumentException e) {
                throw bad(key, text, expected);
            }
        }
    }

    /**
     * Writes a model: its twelve tensors (F32) and its full configuration as metadata, atomically.
     *
     * @throws IllegalArgumentException when the weights do not match the config
     * @throws IOException naming the path when it cannot be written
     */
    public static void save(Path file, MmcaConfig config, MmcaWeights weights) throws IOException {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(weights, "weights");
        if (config.composition() == Composition.INTERLEAVED) {
            throw new IllegalArgumentException("config: composition INTERLEAVED has one block, not three; save it"
                    + " with ModelFiles.saveInterleaved");
        }
        weights.validate(config);
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put(HEADS, Integer.toString(config.heads()));
        metadata.put(KV_HEADS, Integer.toString(config.kvHeads()));
        metadata.put(DIM_HEAD, Integer.toString(config.dimHead()));
        metadata.put(CAUSAL, Boolean.toString(config.causal()));
        metadata.put(QK_NORM, Boolean.toString(config.qkNorm()));
        metadata.put(COMPOSITION, config.composition().name().toLowerCase(Locale.ROOT));
        metadata.put(HEAD_MAPPING, config.headMapping().name().toLowerCase(Locale.ROOT));
        Safetensors.write(file, weights.toStateDict(), metadata);
    }
}
