package dev.mmca.spark;

import dev.mmca.embed.EmbedOptions;
import java.util.Objects;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML stage that adds SimpleMMCA embeddings to a dataset: it reads a visual and a text
 * token column ({@code array<array<float>>}, tokens x dim, or flat {@code array<float>}, see
 * {@link TokenLayout}; any number of tokens per row) and appends {@code visual_out} and
 * {@code text_out} columns of the same layout and shapes; other columns pass through, the token
 * columns too unless {@code keepInputs} is false.
 *
 * <p>It is a {@link Transformer} with params, so it goes into a {@code Pipeline}, and it saves
 * with the weights file inside its folder, so a saved {@code PipelineModel} loads anywhere. Each
 * executor JVM loads the weights once per backend request (see {@link ExecutorModels}); each
 * partition is embedded in length-sorted batches, as the file pipeline batches a shard. With GPUs
 * scheduled by Spark, each task runs on its own GPU (see {@link TaskBackend}).
 */
public final class MmcaEmbeddings extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    /** {@code array<array<float>>}: tokens of {@code dim} floats each (the type of nested embeddings). */
    public static final DataType TOKENS =
            DataTypes.createArrayType(DataTypes.createArrayType(DataTypes.FloatType, false), false);
    /** {@code array<float>}: {@code tokens * dim} floats, row-major (the type of flat embeddings). */
    public static final DataType FLAT_TOKENS = DataTypes.createArrayType(DataTypes.FloatType, false);

    private final String uid;
    private final Param<String> weights;
    private final Param<String> backend;
    private final Param<String> visualCol;
    private final Param<String> textCol;
    private final Param<String> visualOutputCol;
    private final Param<String> textOutputCol;
    private final Param<String> idCol;
    private final IntParam window;
    private final IntParam batchTokens;
    private final IntParam computeThreads;
    private final Param<String> tokenLayout;
    private final Param<String> visualTokensCol;
    private final Param<String> textTokensCol;
    private final BooleanParam keepInputs;

    public MmcaEmbeddings() {
        this(Identifiable.randomUID("mmcaEmbeddings"));
    }

    /** With a given uid: how Spark recreates a stage it loads or copies. */
    public MmcaEmbeddings(String uid) {
        this.uid = Objects.requireNonNull(uid, "uid");
        weights = new Param<>(this, "weights", "the model: a safetensors file with its hyper-parameters in the"
                + " metadata; a local path readable on every executor (or shipped with spark-submit --files), or a"
                + " Hadoop file system URI (hdfs://, s3a://, ...), which the driver ships to the executors");
        backend = new Param<>(this, "backend", "backend on each executor: auto (the best available), cpu, java,"
                + " cuda, or cuda:N for device N; with GPUs scheduled by Spark, cuda and auto take the task's GPU");
        visualCol = new Param<>(this, "visualCol", "column of the visual tokens");
        textCol = new Param<>(this, "textCol", "column of the text tokens");
        visualOutputCol = new Param<>(this, "visualOutputCol", "column for the visual embeddings (added)");
        textOutputCol = new Param<>(this, "textOutputCol", "column for the text embeddings (added)");
        idCol = new Param<>(this, "idCol", "column whose value names a row in error messages (optional; else"
                + " partition and position)");
        window = new IntParam(this, "window", "rows sorted together by length before batching, per partition (>= 1;"
                + " a window also ends at twice batchTokens tokens)",
                ParamValidators.gtEq(1));
        batchTokens = new IntParam(this, "batchTokens", "padded tokens (visual + text) per forward call (>= 1)",
                ParamValidators.gtEq(1));
        computeThreads = new IntParam(this, "computeThreads", "forward calls at once per model in one executor JVM,"
                + " across its tasks (>= 1); 1 suits backends that use every core (or the whole GPU) for one call",
                ParamValidators.gtEq(1));
        tokenLayout = new Param<>(this, "tokenLayout", "layout of the token columns: nested (array<array<float>>,"
                + " tokens x dim) or flat (array<float> of tokens * dim floats)",
                ParamValidators.inArray(java.util.List.of(TokenLayout.NESTED.paramValue(),
                        TokenLayout.FLAT.paramValue())));
        visualTokensCol = new Param<>(this, "visualTokensCol", "flat layout only: integer column of the visual"
                + " token counts (optional; else the array length over dim)");
        textTokensCol = new Param<>(this, "textTokensCol", "flat layout only: integer column of the text token"
                + " counts (optional; else the array length over dim)");
        keepInputs = new BooleanParam(this, "keepInputs", "whether the output keeps the two input token columns;"
                + " without them less data is written back");
        setDefault(backend, "auto");
        setDefault(visualCol, "visual");
        setDefault(textCol, "text");
        setDefault(visualOutputCol, "visual_out");
        setDefault(textOutputCol, "text_out");
        setDefault(window, EmbedOptions.DEFAULT_WINDOW);
        setDefault(batchTokens, EmbedOptions.DEFAULT_BATCH_TOKENS);
        setDefault(computeThreads, 1);
        setDefault(tokenLayout, TokenLayout.NESTED.paramValue());
        setDefault(keepInputs, true);
    }

    @Override
    public String uid() {
        return uid;
    }

    // ---- params (Spark finds them through these public accessors) ----

    public Param<String> weights() { return weights; }
    public Param<String> backend() { return backend; }
    public Param<String> visualCol() { return visualCol; }
    public Param<String> textCol() { return textCol; }
    public Param<String> visualOutputCol() { return visualOutputCol; }
    public Param<String> textOutputCol() { return textOutputCol; }
    public Param<String> idCol() { return idCol; }
    public IntParam window() { return window; }
    public IntParam batchTokens() { return batchTokens; }
    public IntParam computeThreads() { return computeThreads; }
    public Param<String> tokenLayout() { return tokenLayout; }
    public Param<String> visualTokensCol() { return visualTokensCol; }
    public Param<String> textTokensCol() { return textTokensCol; }
    public BooleanParam keepInputs() { return keepInputs; }

    public String getWeights() { return optional(weights); }
    public String getBackend() { return getOrDefault(backend); }
    public String getVisualCol() { return getOrDefault(visualCol); }
    public String getTextCol() { return getOrDefault(textCol); }
    public String getVisualOutputCol() { return getOrDefault(visualOutputCol); }
    public String getTextOutputCol() { return getOrDefault(textOutputCol); }
    /** Null when unset. */
    public String getIdCol() { return optional(idCol); }
    public int getWindow() { return (Integer) getOrDefault(window); }
    public int getBatchTokens() { return (Integer) getOrDefault(batchTokens); }
    public int getComputeThreads() { return (Integer) getOrDefault(computeThreads); }
    public String getTokenLayout() { return getOrDefault(tokenLayout); }
    /** Null when unset. */
    public String getVisualTokensCol() { return optional(visualTokensCol); }
    /** Null when unset. */
    public String getTextTokensCol() { return optional(textTokensCol); }
    public boolean getKeepInputs() { return (Boolean) getOrDefault(keepInputs); }

    public MmcaEmbeddings setWeights(String v) { return put(weights, required(v, "weights")); }
    public MmcaEmbeddings setBackend(String v) { return put(backend, required(v, "backend")); }
    public MmcaEmbeddings setVisualCol(String v) { return put(visualCol, required(v, "visualCol")); }
    public MmcaEmbeddings setTextCol(String v) { return put(textCol, required(v, "textCol")); }
    public MmcaEmbeddings setVisualOutputCol(String v) { return put(visualOutputCol, required(v, "visualOutputCol")); }
    public MmcaEmbeddings setTextOutputCol(String v) { return put(textOutputCol, required(v, "textOutputCol")); }
    /** A column whose value names a row in error messages; null unsets it. */
    public MmcaEmbeddings setIdCol(String v) { return putOrClear(idCol, v); }
    public MmcaEmbeddings setTokenLayout(String v) { return put(tokenLayout, TokenLayout.of(v).paramValue()); }
    public MmcaEmbeddings setTokenLayout(TokenLayout v) { return put(tokenLayout, v.paramValue()); }
    /** Flat layout: the visual token counts' column; null unsets it (counts then come from the lengths). */
    public MmcaEmbeddings setVisualTokensCol(String v) { return putOrClear(visualTokensCol, v); }
    /** Flat layout: the text token counts' column; null unsets it (counts then come from the lengths). */
    public MmcaEmbeddings setTextTokensCol(String v) { return putOrClear(textTokensCol, v); }
    public MmcaEmbeddings setKeepInputs(boolean v) { return put(keepInputs, v); }

    public MmcaEmbeddings setWindow(int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("window: expected at least 1 row, got " + rows);
        }
        return put(window, rows);
    }

    public MmcaEmbeddings setBatchTokens(int tokens) {
        if (tokens < 1) {
            throw new IllegalArgumentException("batchTokens: expected at least 1 token, got " + tokens);
        }
        return put(batchTokens, tokens);
    }

    public MmcaEmbeddings setComputeThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("computeThreads: expected at least 1 forward call at once, got "
                    + threads);
        }
        return put(computeThreads, threads);
    }

    private <T> MmcaEmbeddings put(Param<T> p, T value) {
        set(p, value);
        return this;
    }

    private MmcaEmbeddings putOrClear(Param<String> p, String value) {
        if (value == null) {
            clear(p);
        } else {
            set(p, value);
        }
        return this;
    }

    private String optional(Param<String> p) {
        return isDefined(p) ? getOrDefault(p) : null;
    }

    private static String required(String value, String param) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(param + ": expected a non-empty string, got "
                    + (value == null ? "null" : "'" + value + "'"));
        }
        return value;
    }

    // ---- Transformer ----

    /** The params as one value; throws naming the param when one is missing or invalid. */
    StageSettings settings() {
        String w = getWeights();
        if (w == null) {
            throw new IllegalArgumentException("weights: expected the path of a safetensors weights file (setWeights),"
                    + " got none");
        }
        return new StageSettings(w, getBackend(), TokenLayout.of(getTokenLayout()), getVisualCol(), getTextCol(),
                getVisualOutputCol(), getTextOutputCol(), getVisualTokensCol(), getTextTokensCol(), getIdCol(),
                getWindow(), getBatchTokens(), getComputeThreads(), getKeepInputs());
    }

    /**
     * The input's schema with the token columns (unless dropped) and the two embedding columns.
     *
     * @throws IllegalArgumentException naming the param, column, expected and actual type when the input does not fit
     */
    @Override
    public StructType transformSchema(StructType schema) {
        return StageSchema.output(schema, settings());
    }

    /** The input with the two embedding columns appended. Lazy, as any Spark transformation. */
    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        Objects.requireNonNull(dataset, "dataset");
        StageSettings s = settings();
        StructType output = StageSchema.output(dataset.schema(), s);
        if (!WeightsLocation.isLocal(s.weights())) {
            // Executors find it by file name among the files the driver ships (SparkFiles).
            dataset.sparkSession().sparkContext().addFile(s.weights());
        }
        return DatasetEmbedding.apply(dataset.toDF(), s, output);
    }

    @Override
    public MmcaEmbeddings copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    // ---- persistence ----

    /** Writes the params and the weights file into the stage's folder (see {@link MmcaEmbeddingsWriter}). */
    @Override
    public MLWriter write() {
        return new MmcaEmbeddingsWriter(this);
    }

    /** The writer of the params alone (Spark's metadata format), which {@link MmcaEmbeddingsWriter} builds on. */
    MLWriter paramsWriter() {
        return DefaultParamsWritable.super.write();
    }

    public static MLReader<MmcaEmbeddings> read() {
        return new MmcaEmbeddingsReader();
    }

    public static MmcaEmbeddings load(String path) {
        return read().load(path);
    }

    @Override
    public String toString() {
        return "MmcaEmbeddings(" + uid + ")";
    }

    // ---- builder ----

    /** @param weights a safetensors weights file with its hyper-parameters in the metadata */
    public static Builder builder(String weights) {
        return new Builder(weights);
    }

    /** Sets the params in one expression; each method sets the param of the same meaning. */
    public static final class Builder {
        private final MmcaEmbeddings stage = new MmcaEmbeddings();

        private Builder(String weights) {
            stage.setWeights(weights);
        }

        /** Backend name, chosen on each executor; {@code auto} (default) takes the best one there. */
        public Builder backend(String b) { stage.setBackend(b); return this; }
        public Builder visualColumn(String c) { stage.setVisualCol(c); return this; }
        public Builder textColumn(String c) { stage.setTextCol(c); return this; }
        public Builder visualOutColumn(String c) { stage.setVisualOutputCol(c); return this; }
        public Builder textOutColumn(String c) { stage.setTextOutputCol(c); return this; }
        /** A column whose value names a row in error messages (else: partition and position). */
        public Builder idColumn(String c) { stage.setIdCol(c); return this; }
        /** Rows sorted together by length before batching (a window also ends at twice batchTokens tokens). */
        public Builder window(int w) { stage.setWindow(w); return this; }
        /** Padded tokens per forward call. */
        public Builder batchTokens(int n) { stage.setBatchTokens(n); return this; }
        /** Forward calls at once per model in one executor JVM (default 1). */
        public Builder computeThreads(int n) { stage.setComputeThreads(n); return this; }
        public Builder tokenLayout(TokenLayout l) { stage.setTokenLayout(l); return this; }
        /** Flat layout: the visual token counts' column (else the length over dim). */
        public Builder visualTokensColumn(String c) { stage.setVisualTokensCol(c); return this; }
        /** Flat layout: the text token counts' column (else the length over dim). */
        public Builder textTokensColumn(String c) { stage.setTextTokensCol(c); return this; }
        /** Whether the output keeps the two input token columns (default true). */
        public Builder keepInputs(boolean keep) { stage.setKeepInputs(keep); return this; }

        public MmcaEmbeddings build() {
            return stage.copy(ParamMap.empty());
        }
    }
}
